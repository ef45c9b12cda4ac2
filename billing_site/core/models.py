from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models

from billing_site.core.scopes import SCOPE_CHOICES

# What DRF's throttling can parse: N requests per second, minute, hour or day.
THROTTLE_RATE_REGEX = r"^[1-9][0-9]{0,8}/(s|sec|second|m|min|minute|h|hour|d|day)$"
THROTTLE_RATE_VALIDATOR = RegexValidator(
    THROTTLE_RATE_REGEX,
    "Use N/second, N/minute, N/hour or N/day, e.g. 600/minute.",
    code="invalid_rate",
)


class ApiKey(models.Model):
    """A service's credential. Only a hash of the secret is stored; the full key is shown once."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = ArrayField(models.CharField(max_length=40, choices=SCOPE_CHOICES), default=list)
    throttle_rate = models.CharField(
        max_length=20,
        blank=True,
        validators=[THROTTLE_RATE_VALIDATOR],
        help_text="Requests allowed for this key: N/second, N/minute, N/hour or N/day, e.g. "
        "600/minute. Blank: the default rate.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (bk_{self.prefix}_…)"

    # DRF reads these on request.user; the key is the authenticated principal.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class AuditLogEntry(models.Model):
    """Who changed what, when and why; written in the same transaction as the change."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, help_text="User name, API key or 'system'.")
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_type}:{self.object_id}"


class ApiRequestLog(models.Model):
    """One API request: who, what, how it ended and how long it took (Developers → API log).

    Bodies are never stored, only the error body of a refused request (our own error shape),
    so neither secrets nor event payloads end up here. Pruned after API_LOG_RETENTION_DAYS.
    """

    created_at = models.DateTimeField(db_index=True)
    api_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    query = models.CharField(max_length=500, blank=True)
    status_code = models.PositiveSmallIntegerField()
    duration_us = models.PositiveIntegerField(help_text="Time to answer, in microseconds.")
    error_code = models.CharField(max_length=60, blank=True)
    error_body = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = "API request"
        verbose_name_plural = "API log"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["api_key", "-created_at"], name="core_apilog_key_time")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} {self.status_code}"


class WebhookEndpoint(models.Model):
    """Where outgoing events are posted, signed with the endpoint's secret."""

    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(
        max_length=100, help_text="Shared with the receiver; signs every delivery (HMAC-SHA256)."
    )
    event_types = ArrayField(
        models.CharField(max_length=60),
        default=list,
        blank=True,
        help_text="Event types sent here, e.g. usage.threshold_reached; empty: all.",
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "webhook endpoint"
        ordering = ["url", "id"]

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """One event for one endpoint, and how its delivery went. Retries update this row."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (will be tried)"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (retries exhausted)"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(max_length=64, help_text="The same on every attempt and resend.")
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint}"
