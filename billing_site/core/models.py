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
