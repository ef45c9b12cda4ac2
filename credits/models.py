"""Credits: allowances of a metered feature's units, and the append-only ledger that moves them.

A grant is one row; what happens to it afterwards (consumption, expiry, void, adjustment) is a
new ledger row pointing at it, never an update. A grant's remaining amount is the sum of its
ledger rows (the grant itself is the first, positive row), so a balance is a sum and nothing else.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from billing_site.core.money import MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from plans.models import Customer, Feature, PlanVersion, Subscription

UNITS = {"max_digits": MONEY_MAX_DIGITS, "decimal_places": MONEY_DECIMAL_PLACES}


class CreditDefinition(models.Model):
    """What a plan version grants of a metered feature: at start, and again each period."""

    version = models.ForeignKey(
        PlanVersion, on_delete=models.CASCADE, related_name="credit_definitions"
    )
    feature = models.ForeignKey(Feature, on_delete=models.PROTECT, related_name="+")
    initial_amount = models.DecimalField(
        **UNITS,
        default=0,
        validators=[MinValueValidator(0)],
        help_text="Units granted when a subscription starts.",
    )
    renew_on_billing = models.BooleanField(
        default=False, help_text="Grant the refill amount again at the start of each period."
    )
    refill_amount = models.DecimalField(
        **UNITS,
        default=0,
        validators=[MinValueValidator(0)],
        help_text="Units granted each period.",
    )
    expiry_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days a grant lasts; blank: it never expires."
    )
    priority = models.PositiveSmallIntegerField(
        default=50, help_text="Lower numbers are used first."
    )
    billing_visible = models.BooleanField(
        default=True, help_text="The invoice shows the credits applied as a negative line."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["version", "priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "feature"], name="credits_definition_one_per_feature"
            ),
            models.CheckConstraint(
                condition=Q(initial_amount__gte=0) & Q(refill_amount__gte=0),
                name="credits_definition_amounts_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feature.slug} credits on {self.version}"


class CreditGrant(models.Model):
    class Source(models.TextChoices):
        PLAN = "plan", "Plan (at subscription start)"
        REFILL = "refill", "Plan refill (each period)"
        MANUAL = "manual", "Granted by staff"
        PROMOTION = "promotion", "Promotion"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="credit_grants")
    subscription = models.ForeignKey(
        Subscription, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_grants"
    )
    feature = models.ForeignKey(Feature, on_delete=models.PROTECT, related_name="+")
    definition = models.ForeignKey(
        CreditDefinition, null=True, blank=True, on_delete=models.SET_NULL, related_name="grants"
    )
    amount = models.DecimalField(**UNITS)
    priority = models.PositiveSmallIntegerField(default=50)
    effective_at = models.DateTimeField()
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Blank: a lifetime allowance that never expires."
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    billing_visible = models.BooleanField(default=True)
    reason = models.TextField(blank=True)
    key = models.CharField(
        max_length=200, unique=True, help_text="Makes granting idempotent (refills, retries)."
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["priority", F("expires_at").asc(nulls_last=True), "created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="credits_grant_amount_positive"),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("effective_at")),
                name="credits_grant_expires_after_effective",
            ),
        ]
        indexes = [models.Index(fields=["customer", "feature"], name="credits_grant_cust_feat")]

    def __str__(self) -> str:
        return f"{self.amount.normalize():f} {self.feature.slug} for {self.customer.external_id}"


class CreditLedgerEntry(models.Model):
    """One movement of one grant's units; positive adds, negative takes. Never updated."""

    class Kind(models.TextChoices):
        GRANT = "grant"
        CONSUME = "consume"
        EXPIRE = "expire"
        VOID = "void"
        ADJUST = "adjust"

    grant = models.ForeignKey(CreditGrant, on_delete=models.PROTECT, related_name="entries")
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    feature = models.ForeignKey(Feature, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(**UNITS)
    key = models.CharField(max_length=200, unique=True, help_text="Idempotency of the movement.")
    reference = models.CharField(
        max_length=200, blank=True, help_text="What caused it: a consume, an invoice, a hold."
    )
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    actor_label = models.CharField(max_length=150, blank=True)
    occurred_at = models.DateTimeField(
        help_text="When the movement counts: a grant's effective time, a burn's usage time."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = "credit ledger entry"
        verbose_name_plural = "credit ledger"
        ordering = ["occurred_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="credits_entry_amount_not_zero"),
            models.CheckConstraint(
                condition=(Q(kind="grant") & Q(amount__gt=0))
                | (Q(kind__in=["consume", "expire"]) & Q(amount__lt=0))
                | Q(kind__in=["void", "adjust"]),
                name="credits_entry_sign_by_kind",
            ),
        ]
        indexes = [
            models.Index(fields=["customer", "feature"], name="credits_entry_cust_feat"),
            models.Index(fields=["reference"], name="credits_entry_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount.normalize():f} on grant {self.grant_id}"
