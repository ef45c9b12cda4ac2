"""Coupons and tax rates in the admin: what finance staff define, in words and money as people
read it. Giving a coupon to a customer happens on the customer's page
(``invoices.admin.customer_coupons``)."""

from typing import Any

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from invoices.adjustment_models import AppliedCoupon, Coupon, TaxRate
from invoices.display import money_text, number_text


def coupon_terms_text(coupon: Coupon, applied: AppliedCoupon | None = None) -> str:
    """ "$20.00 off" or "10 % off", the customer's own terms winning."""
    if coupon.kind == Coupon.Kind.PERCENTAGE:
        rate = applied.percentage if applied and applied.percentage is not None else None
        return f"{number_text(rate if rate is not None else coupon.percentage)} % off"
    amount = applied.amount if applied and applied.amount is not None else None
    return f"{money_text(amount if amount is not None else coupon.amount, coupon.currency)} off"


def coupon_duration_text(coupon: Coupon) -> str:
    if coupon.duration == Coupon.Duration.PERIODS:
        n = coupon.duration_periods or 0
        return f"{n} billing period{'s' if n != 1 else ''}"
    if coupon.duration == Coupon.Duration.ONCE:
        return "Once (the balance carries over)" if coupon.kind == Coupon.Kind.FIXED else "Once"
    return "Forever"


@admin.register(Coupon)
class CouponAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "terms",
        "duration_text",
        "expires_on",
        "limit_text",
        "customers_count",
    ]
    list_display_links = ["code", "name"]
    list_filter = ["kind", "duration"]
    search_fields = ["code", "name"]
    search_help_text = "Search by code or name."
    filter_horizontal = ["plans", "metrics"]
    fieldsets = [
        (None, {"fields": ["code", "name"]}),
        (
            "Discount",
            {
                "fields": ["kind", ("amount", "currency"), "percentage"],
                "description": "A fixed amount in a currency, or a percentage of the lines it "
                "covers. Coupons apply before taxes.",
            },
        ),
        ("How long", {"fields": ["duration", "duration_periods", "expires_on"]}),
        (
            "Limits",
            {
                "fields": ["redemption_limit", "metrics", "plans"],
                "description": "Order on an invoice: coupons limited to metrics first, then to "
                "plans, then general ones; oldest first; each capped at what remains.",
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Coupon]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                customers=Count(
                    "applications", filter=~Q(applications__status=AppliedCoupon.Status.REMOVED)
                )
            )
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Coupon | None = None) -> list[str]:
        # Once given to customers, the terms they were promised stay as they are.
        if obj is not None and obj.applications.exists():
            return ["code", "kind", "amount", "currency", "percentage", "duration"]
        return []

    @admin.display(description="Discount")
    def terms(self, obj: Coupon) -> str:
        return coupon_terms_text(obj)

    @admin.display(description="Duration", ordering="duration")
    def duration_text(self, obj: Coupon) -> str:
        return coupon_duration_text(obj)

    @admin.display(description="Customer limit", ordering="redemption_limit")
    def limit_text(self, obj: Coupon) -> str:
        return "No limit" if obj.redemption_limit is None else str(obj.redemption_limit)

    @admin.display(description="Customers", ordering="customers")
    def customers_count(self, obj: Any) -> int:
        return obj.customers

    def has_delete_permission(self, request: HttpRequest, obj: Coupon | None = None) -> bool:
        # Applied coupons keep their redemptions; a coupon in use cannot disappear.
        return obj is None or not obj.applications.exists()


@admin.register(TaxRate)
class TaxRateAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "rate", "is_default", "customers_count", "versions_count"]
    list_display_links = ["code", "name"]
    list_filter = ["is_default"]
    search_fields = ["code", "name"]
    search_help_text = "Search by code or name."
    autocomplete_fields = ["customers", "plan_versions"]
    fieldsets = [
        (None, {"fields": ["code", "name", "percentage"]}),
        (
            "Where it applies",
            {
                "fields": ["is_default", "customers", "plan_versions"],
                "description": "An invoice line takes the most specific rates: its plan "
                "version's, else its customer's, else the organization's default.",
            },
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TaxRate]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_customers=Count("customers", distinct=True),
                n_versions=Count("plan_versions", distinct=True),
            )
        )

    @admin.display(description="Rate", ordering="percentage")
    def rate(self, obj: TaxRate) -> str:
        return f"{number_text(obj.percentage)} %"

    @admin.display(description="Customers", ordering="n_customers")
    def customers_count(self, obj: Any) -> int:
        return obj.n_customers

    @admin.display(description="Plan versions", ordering="n_versions")
    def versions_count(self, obj: Any) -> int:
        return obj.n_versions
