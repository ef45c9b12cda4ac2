"""Invoices, their lines, numbering, billing runs and Stripe's side of payments.

Invariants that rows can hold are constraints here:
- one invoice per (subscription, period start, kind): a rerun, a crashed worker or two workers
  racing bill a period exactly once;
- a number exists exactly when the invoice has been finalized, and numbers are unique;
- each line keeps its precise and its rounded amount; the invoice's total is the sum of the
  rounded lines (kept by the services, which write both in one transaction).

Status moves only through ``invoices.transitions``; every move writes an ``InvoiceEvent``.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from billing_site.core.money import (
    CURRENCY_VALIDATOR,
    MONEY_DECIMAL_PLACES,
    MONEY_MAX_DIGITS,
    RATE_DECIMAL_PLACES,
)
from plans.models import Charge, Customer, PlanVersion, Subscription


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft (editable during the grace period)"
    FINALIZED = "finalized", "Finalized (open, awaiting payment)"
    PAID = "paid", "Paid"
    VOID = "void", "Void"
    UNCOLLECTIBLE = "uncollectible", "Uncollectible"


class InvoiceKind(models.TextChoices):
    PERIOD = "period", "Period (usage and arrears fees, at period end)"
    ADVANCE = "advance", "In advance (base fee at period start)"
    ONE_OFF = "one_off", "One-off (add-ons, made by staff or the API)"
    FEES = "fees", "Pay-in-advance fees (usage billed as it arrives)"


class PaymentStatus(models.TextChoices):
    NONE = "", "Not pushed"
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    REFUNDED = "refunded", "Refunded"


def _money(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(
        max_digits=MONEY_MAX_DIGITS, decimal_places=MONEY_DECIMAL_PLACES, **kwargs
    )


class Invoice(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="invoices")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices"
    )
    version = models.ForeignKey(
        PlanVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The plan version in force at the start of the period (none for a one-off).",
    )
    kind = models.CharField(max_length=10, choices=InvoiceKind.choices)
    status = models.CharField(
        max_length=15, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    number = models.CharField(max_length=32, null=True, blank=True, unique=True)
    currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    period_start = models.DateTimeField()
    period_end = models.DateTimeField(help_text="End of what this invoice bills (exclusive).")
    nominal_period_end = models.DateTimeField(
        help_text="End of the subscription's period; later than period_end when it ended early."
    )
    total = _money(default=0)
    issued_at = models.DateTimeField(help_text="When the draft was created.")
    computed_at = models.DateTimeField(help_text="When the lines were last computed.")
    finalize_after = models.DateTimeField(help_text="End of the grace period.")
    finalized_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    payment_status = models.CharField(
        max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.NONE, blank=True
    )
    stripe_payment_intent_id = models.CharField(max_length=255, blank=True, db_index=True)
    stripe_pushed_at = models.DateTimeField(null=True, blank=True)
    stripe_error = models.TextField(blank=True)
    idempotency_key = models.CharField(
        max_length=255,
        null=True,
        blank=True,
        unique=True,
        help_text="A one-off invoice's key: a retried request with it gets the same invoice.",
    )
    idempotency_digest = models.CharField(
        max_length=64, blank=True, help_text="sha256 of the request the key was first used with."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-period_start", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "period_start", "kind"],
                name="invoices_invoice_one_per_subscription_period_kind",
            ),
            models.CheckConstraint(
                condition=Q(period_start__lt=F("period_end")),
                name="invoices_invoice_period_start_before_end",
            ),
            models.CheckConstraint(
                condition=(Q(status="draft") & Q(number__isnull=True))
                | (~Q(status="draft") & Q(number__isnull=False) & Q(finalized_at__isnull=False)),
                name="invoices_invoice_number_iff_finalized",
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False),
                name="invoices_invoice_paid_has_paid_at",
            ),
            models.CheckConstraint(
                condition=Q(kind="one_off")
                | (Q(subscription__isnull=False) & Q(version__isnull=False)),
                name="invoices_invoice_subscription_unless_one_off",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "finalize_after"], name="invoices_due_finalize_idx"),
            models.Index(fields=["customer", "-period_start"], name="invoices_customer_idx"),
            # The dashboard's month of invoices (revenue, top customers) and MRR by period,
            # read from the index alone.
            models.Index(
                fields=["issued_at"],
                include=["currency", "status", "total", "customer"],
                name="invoices_issued_idx",
            ),
            models.Index(
                fields=["period_start"],
                include=["currency", "status", "total", "version"],
                name="invoices_period_start_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"Draft #{self.pk}"

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT


class InvoiceLine(models.Model):
    class Kind(models.TextChoices):
        BASE_FEE = "base_fee", "Base fee"
        USAGE = "usage", "Usage"
        CREDIT = "credit", "Credits applied"
        MINIMUM = "minimum", "Minimum true-up"
        ADJUSTMENT = "adjustment", "Late usage adjustment"
        PRORATION = "proration", "Proration"
        ADD_ON = "add_on", "Add-on"
        COUPON = "coupon", "Coupon"
        TAX = "tax", "Tax"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=30, decimal_places=RATE_DECIMAL_PLACES, default=0)
    unit_amount = models.DecimalField(max_digits=30, decimal_places=RATE_DECIMAL_PLACES, default=0)
    amount_precise = models.DecimalField(
        max_digits=40, decimal_places=20, help_text="Exact amount before rounding."
    )
    amount = _money(help_text="Rounded once to the currency's minor unit, half-up.")
    breakdown = models.JSONField(default=dict, blank=True)
    line_start = models.DateTimeField(help_text="Start of the time this line bills.")
    line_end = models.DateTimeField()
    version = models.ForeignKey(
        PlanVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    charge = models.ForeignKey(
        Charge, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    metric_code = models.CharField(max_length=100, blank=True)
    group_key = models.CharField(
        max_length=500, blank=True, help_text="The filter/group a charge's result is for."
    )
    event_count = models.BigIntegerField(default=0)
    events_digest = models.CharField(
        max_length=64, blank=True, help_text="md5 of the ids of the events this line priced."
    )
    source_invoice = models.ForeignKey(
        Invoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adjusted_by_lines",
        help_text="For an adjustment: the finalized invoice whose period the late usage is in.",
    )
    add_on = models.ForeignKey(
        "invoices.AddOn",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="For an add-on line: the catalog entry it was made from.",
    )

    class Meta:
        ordering = ["invoice", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(line_start__lt=F("line_end")),
                name="invoices_line_start_before_end",
            ),
            models.CheckConstraint(
                condition=~Q(kind="adjustment") | Q(source_invoice__isnull=False),
                name="invoices_line_adjustment_has_source",
            ),
        ]
        indexes = [
            # The dashboard's events per customer over a month's invoices, from the index alone.
            models.Index(
                fields=["invoice"], include=["event_count"], name="invoices_line_events_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.description


class InvoiceNumberSequence(models.Model):
    """The last number given per prefix (``INV-2026``); locked while a number is taken, in the
    finalizing transaction, so a rollback gives the number back and there are no gaps."""

    prefix = models.CharField(max_length=20, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_value}"


class InvoiceEvent(models.Model):
    """What happened to an invoice: every status transition, recomputation and push."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=40)
    from_status = models.CharField(max_length=15, blank=True)
    to_status = models.CharField(max_length=15, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150)
    details = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["invoice", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label}"


class BillingRun(models.Model):
    """One pass of the billing task: how many subscriptions were due, what it made, what failed."""

    class Status(models.TextChoices):
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed", "Done with errors"

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    subscriptions_due = models.PositiveIntegerField(default=0)
    batches_total = models.PositiveIntegerField(default=0)
    batches_done = models.PositiveIntegerField(default=0)
    invoices_created = models.PositiveIntegerField(default=0)
    errors_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Billing run {self.started_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class StripeCustomer(models.Model):
    customer = models.OneToOneField(Customer, on_delete=models.PROTECT, related_name="+")
    stripe_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.stripe_id


class StripeWebhookEvent(models.Model):
    """A Stripe webhook delivery, stored before it is processed (dj-stripe's
    ``WebhookEventTrigger``); ``stripe_id`` is unique so an event is processed once."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    body = models.JSONField()
    headers = models.JSONField(default=dict)
    valid = models.BooleanField(default=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    exception = models.CharField(max_length=500, blank=True)
    traceback = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    deliveries = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.type} ({self.stripe_id})"


# Add-ons, e-mails, coupons, taxes and pay-in-advance fees live in their own modules; importing
# them here registers them.
from invoices.addon_models import AddOn, InvoiceEmail, InvoiceEmailEvent  # noqa: E402
from invoices.adjustment_models import (  # noqa: E402
    AppliedCoupon,
    Coupon,
    CouponRedemption,
    TaxRate,
)
from invoices.advance.models import AdvanceFee, AdvanceFeeCursor, AdvanceFeeState  # noqa: E402

__all__ = [
    "AdvanceFee",
    "AdvanceFeeCursor",
    "AdvanceFeeState",
    "AddOn",
    "AppliedCoupon",
    "Coupon",
    "CouponRedemption",
    "TaxRate",
    "BillingRun",
    "Invoice",
    "InvoiceEmail",
    "InvoiceEmailEvent",
    "InvoiceEvent",
    "InvoiceKind",
    "InvoiceLine",
    "InvoiceNumberSequence",
    "InvoiceStatus",
    "PaymentStatus",
    "StripeCustomer",
    "StripeWebhookEvent",
]
