"""Entitlements: per-window usage counters (the hot path's read), consume records (idempotency),
holds for long-running work, and usage alerts fired."""

import uuid

from django.db import models
from django.db.models import F, Q

from billing_site.core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from metering.models import BillableMetric
from plans.models import Customer, Feature, Subscription

UNITS = {"max_digits": MONEY_MAX_DIGITS, "decimal_places": MONEY_DECIMAL_PLACES}


class UsageCounter(models.Model):
    """A customer's usage of a metric over one limit window ``[window_start, window_end)``.

    A cache of metering's answer that the consume path keeps current by adding what it records,
    so a check reads one row instead of aggregating events. Ingest marks counters ``stale`` when
    events of their customer and metric arrive by another road; the next read recomputes them
    from metering (rollups) under the row's lock.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    metric = models.ForeignKey(BillableMetric, on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    quantity = models.DecimalField(**UNITS, default=0)
    credited = models.DecimalField(
        **UNITS, default=0, help_text="Units of this window paid with credits as they were used."
    )
    stale = models.BooleanField(default=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "metric", "window_start", "window_end"],
                name="entitlements_counter_one_per_window",
            ),
            models.CheckConstraint(
                condition=Q(window_start__lt=F("window_end")),
                name="entitlements_counter_window_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.metric_id}@{self.customer_id} [{self.window_start}, {self.window_end})"


class ConsumeRecord(models.Model):
    """The first answer to a consume, replayed to retries of the same transaction id."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+")
    transaction_id = models.CharField(max_length=255)
    quantity = models.DecimalField(**UNITS)
    allowed = models.BooleanField()
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "feature", "transaction_id"],
                name="entitlements_consume_once",
            )
        ]

    def __str__(self) -> str:
        return f"consume {self.transaction_id}"


class Hold(models.Model):
    """Units set aside for work whose cost is known at its end; they count against the balance
    from the moment they are held until committed, released, or expired."""

    class Status(models.TextChoices):
        HELD = "held"
        COMMITTED = "committed"
        RELEASED = "released"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+")
    quantity = models.DecimalField(**UNITS)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    expires_at = models.DateTimeField()
    committed_quantity = models.DecimalField(**UNITS, null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["customer", "feature", "expires_at"],
                condition=Q(status="held"),
                name="entitlements_hold_active",
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="entitlements_hold_positive")
        ]

    def __str__(self) -> str:
        return f"hold {self.id}"


class UsageAlert(models.Model):
    """A threshold of a feature's allowance crossed in one window; fired once."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="usage_alerts")
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="+")
    threshold = models.PositiveSmallIntegerField(help_text="Percent of the allowance.")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    used = models.DecimalField(**UNITS)
    allowance = models.DecimalField(**UNITS, help_text="The limit plus the credits.")
    fired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-fired_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "feature", "threshold", "window_start"],
                name="entitlements_alert_once_per_window",
            )
        ]

    def __str__(self) -> str:
        return f"{self.feature.slug} at {self.threshold}% for {self.customer.external_id}"
