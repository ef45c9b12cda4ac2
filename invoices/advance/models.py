"""Pay-in-advance fees: one row per billed increase of a charge's metric, and what produces them.

- ``AdvanceFeeCursor``: per metric, the id of the last event read (events are read in id
  ranges up to the id below which no insert can still be in flight, as the rollups are), moved
  in the same transaction as the fees and states it produced, so a rerun reads nothing twice.
- ``AdvanceFeeState``: a subscription's period of a metric so far (running value, high-water
  mark, the distinct values present for unique_count); see ``invoices.advance.fees``.
- ``AdvanceFee``: unique on (charge, customer, transaction id), the event's own key, so a
  duplicate event or a rerun never creates a second fee. ``invoice`` is set when the fee is
  grouped onto a fee invoice.
"""

from django.db import models
from django.db.models import Q

from billing_site.core.money import (
    CURRENCY_VALIDATOR,
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
    RATE_DECIMAL_PLACES,
)
from metering.models import BillableMetric
from plans.models import Charge, Customer, Subscription


def _units(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(max_digits=40, decimal_places=RATE_DECIMAL_PLACES, **kwargs)


class AdvanceFeeCursor(models.Model):
    metric = models.OneToOneField(BillableMetric, on_delete=models.CASCADE, related_name="+")
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.metric_id} up to event {self.last_event_id}"


class AdvanceFeeState(models.Model):
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="+")
    metric = models.ForeignKey(BillableMetric, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    total = _units(default=0)
    high_water = _units(default=0)
    values = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "metric", "period_start"],
                name="invoices_advance_state_one_per_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}/{self.metric_id} from {self.period_start:%Y-%m-%d}"


class AdvanceFee(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, related_name="advance_fees"
    )
    charge = models.ForeignKey(Charge, on_delete=models.PROTECT, related_name="+")
    metric_code = models.CharField(max_length=100)
    description = models.CharField(max_length=200)
    event_id = models.BigIntegerField()
    transaction_id = models.CharField(max_length=255)
    event_timestamp = models.DateTimeField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    units = _units(help_text="The increase of the period's high-water mark this fee bills.")
    high_water_before = _units()
    currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    amount_precise = models.DecimalField(max_digits=40, decimal_places=20)
    amount = models.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        help_text="Rounded once to the currency's minor unit, half-up.",
    )
    breakdown = models.JSONField(default=dict, blank=True)
    invoice = models.ForeignKey(
        "invoices.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="advance_fees",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["subscription", "event_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["charge", "customer", "transaction_id"],
                name="invoices_advance_fee_one_per_event",
            ),
            models.CheckConstraint(condition=Q(units__gt=0), name="invoices_advance_fee_units"),
        ]
        indexes = [
            models.Index(
                fields=["subscription"],
                condition=Q(invoice__isnull=True),
                name="invoices_advance_fee_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.metric_code} {self.transaction_id}: {self.amount} {self.currency}"
