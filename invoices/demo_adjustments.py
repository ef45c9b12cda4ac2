"""Demo coupons and taxes: a welcome coupon given to Acme, 20 % VAT for two customers and a
sales tax on the pay-as-you-go plan's published version (the most specific rate wins for its
customers). Idempotent: a second run changes nothing."""

from decimal import Decimal
from typing import TextIO

from invoices.adjustment_models import AppliedCoupon, Coupon, TaxRate
from invoices.services.coupons import coupon_apply
from plans.models import Customer, PlanVersion

WELCOME = "welcome"


def load(stdout: TextIO) -> None:
    coupon, created = Coupon.objects.get_or_create(
        code=WELCOME,
        defaults={
            "name": "Welcome: $20 off",
            "kind": Coupon.Kind.FIXED,
            "amount": Decimal("20.00"),
            "currency": "USD",
            "duration": Coupon.Duration.ONCE,
        },
    )
    acme = Customer.objects.filter(external_id="acme").first()
    if acme is not None and not AppliedCoupon.objects.filter(customer=acme, coupon=coupon).exists():
        coupon_apply(customer=acme, code=WELCOME)
        stdout.write("Coupon welcome ($20 off once) applied to acme.\n")
    vat, _ = TaxRate.objects.get_or_create(
        code="vat", defaults={"name": "VAT", "percentage": Decimal("20")}
    )
    vat.customers.add(*Customer.objects.filter(external_id__in=["acme", "globex"]))
    sales, _ = TaxRate.objects.get_or_create(
        code="us-sales", defaults={"name": "US sales tax", "percentage": Decimal("7.25")}
    )
    sales.plan_versions.add(
        *PlanVersion.objects.filter(plan__code="payg", status=PlanVersion.Status.PUBLISHED)
    )
    if created:
        stdout.write("Tax rates: VAT 20 % (acme, globex), US sales tax 7.25 % (payg plan).\n")
