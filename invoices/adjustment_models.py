"""Coupons and tax rates: what an invoice's computation reads after usage and credits.

Invariants that rows can hold are constraints here:
- a fixed coupon has an amount and a currency, a percentage coupon a rate between 0 and 100;
  a coupon for N periods says how many;
- a customer holds a coupon at most once while it is active (``AppliedCoupon``; the service
  also refuses one the customer has used up);
- a redemption is recorded once per (applied coupon, invoice), so finalizing twice redeems once.

The arithmetic lives in ``invoices.discounts`` (pure); reads in ``invoices.selectors.adjustments``,
writes in ``invoices.services.coupons``.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from billing_site.core.money import CURRENCY_VALIDATOR, MONEY_DECIMAL_PLACES, MONEY_MAX_DIGITS
from metering.models import BillableMetric
from plans.models import Customer, Plan, PlanVersion

PERCENT_DIGITS, PERCENT_PLACES = 9, 4


def _money(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(
        max_digits=MONEY_MAX_DIGITS,
        decimal_places=MONEY_DECIMAL_PLACES,
        validators=[MinValueValidator(Decimal(0))],
        **kwargs,
    )


def _percent(**kwargs: object) -> models.DecimalField:
    return models.DecimalField(
        max_digits=PERCENT_DIGITS,
        decimal_places=PERCENT_PLACES,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
        **kwargs,
    )


class Coupon(models.Model):
    class Kind(models.TextChoices):
        FIXED = "fixed", "Fixed amount"
        PERCENTAGE = "percentage", "Percentage"

    class Duration(models.TextChoices):
        ONCE = "once", "Once (a fixed amount's balance carries to later invoices)"
        PERIODS = "periods", "For a number of billing periods"
        FOREVER = "forever", "Forever"

    code = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = _money(null=True, blank=True, help_text="For a fixed coupon: the discount.")
    currency = models.CharField(
        max_length=3, blank=True, validators=[CURRENCY_VALIDATOR], help_text="Of a fixed coupon."
    )
    percentage = _percent(
        null=True, blank=True, help_text="For a percentage coupon: 10 means 10 % off."
    )
    duration = models.CharField(max_length=10, choices=Duration.choices)
    duration_periods = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many invoices, for a coupon of N periods."
    )
    expires_on = models.DateField(
        null=True, blank=True, help_text="Last day it may be applied to a customer (UTC)."
    )
    redemption_limit = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many customers may receive it; blank: no limit."
    )
    plans = models.ManyToManyField(
        Plan, blank=True, related_name="+", help_text="Limit it to these plans' lines."
    )
    metrics = models.ManyToManyField(
        BillableMetric,
        blank=True,
        related_name="+",
        help_text="Limit it to these metrics' usage lines (wins over a plan limit).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="fixed", amount__isnull=False, amount__gte=0)
                    & ~Q(currency="")
                    & Q(percentage__isnull=True)
                )
                | Q(
                    kind="percentage",
                    percentage__isnull=False,
                    percentage__gte=0,
                    percentage__lte=100,
                    amount__isnull=True,
                ),
                name="invoices_coupon_terms_match_kind",
            ),
            models.CheckConstraint(
                condition=~Q(duration="periods") | Q(duration_periods__gte=1),
                name="invoices_coupon_periods_counted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind == self.Kind.FIXED:
            if self.amount is None:
                errors["amount"] = "A fixed coupon needs an amount."
            if not self.currency:
                errors["currency"] = "A fixed coupon needs a currency."
            if self.percentage is not None:
                errors["percentage"] = "A fixed coupon has no percentage."
        elif self.kind == self.Kind.PERCENTAGE:
            if self.percentage is None:
                errors["percentage"] = "A percentage coupon needs a percentage."
            elif not 0 <= self.percentage <= 100:
                errors["percentage"] = "A percentage is between 0 and 100."
            if self.amount is not None:
                errors["amount"] = "A percentage coupon has no amount; use a fixed coupon."
        if self.duration == self.Duration.PERIODS and not self.duration_periods:
            errors["duration_periods"] = "Say for how many billing periods."
        if errors:
            raise ValidationError(errors)


class AppliedCoupon(models.Model):
    """A coupon given to one customer, with what is left of it."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        USED_UP = "used_up", "Used up"
        REMOVED = "removed", "Removed"

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="+")
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="applications")
    amount = _money(
        null=True, blank=True, help_text="This customer's own amount; wins over the coupon's."
    )
    percentage = _percent(
        null=True, blank=True, help_text="This customer's own rate; wins over the coupon's."
    )
    periods_remaining = models.PositiveIntegerField(
        null=True, blank=True, help_text="Invoices it still applies to; blank: forever."
    )
    amount_remaining = _money(
        null=True, blank=True, help_text="A fixed coupon's balance carried to the next invoice."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["customer", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "coupon"],
                condition=Q(status="active"),
                name="invoices_appliedcoupon_once_per_customer",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coupon.code} for {self.customer}"


class CouponRedemption(models.Model):
    """What a finalized invoice took from an applied coupon; ``restored_at`` once its void gave
    it back."""

    applied_coupon = models.ForeignKey(
        AppliedCoupon, on_delete=models.PROTECT, related_name="redemptions"
    )
    invoice = models.ForeignKey(
        "invoices.Invoice", on_delete=models.PROTECT, related_name="coupon_redemptions"
    )
    amount = _money()
    currency = models.CharField(max_length=3, validators=[CURRENCY_VALIDATOR])
    used_period = models.BooleanField(help_text="Whether it counted one of the coupon's periods.")
    redeemed_at = models.DateTimeField()
    restored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["redeemed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["applied_coupon", "invoice"], name="invoices_redemption_once_per_invoice"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.applied_coupon} on {self.invoice}"


class TaxRate(models.Model):
    """A tax rate, in force for the organization (default), some customers or some plan
    versions; an invoice line takes the most specific: its plan version's, else its customer's,
    else the organization's."""

    code = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    percentage = _percent(help_text="20 means 20 %.")
    is_default = models.BooleanField(
        default=False,
        verbose_name="organization default",
        help_text="Applies to every customer and plan version without rates of their own.",
    )
    customers = models.ManyToManyField(Customer, blank=True, related_name="tax_rates")
    plan_versions = models.ManyToManyField(PlanVersion, blank=True, related_name="tax_rates")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percentage__gte=0, percentage__lte=100),
                name="invoices_taxrate_percentage_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.percentage.normalize():f} %)"
