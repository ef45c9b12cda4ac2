"""load_demo gives Acme the welcome coupon and sets two tax rates, once; Acme's running period
shows them."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from invoices.models import AppliedCoupon, Coupon, TaxRate
from invoices.selectors import running_period_get
from plans.models import Subscription

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_welcome_coupon_and_two_tax_rates_shown_on_acmes_running_period():
    # given the demo loaded twice
    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())

    # then one coupon, applied once, and two rates
    assert list(Coupon.objects.values_list("code", "amount")) == [("welcome", Decimal("20.0000"))]
    assert list(AppliedCoupon.objects.values_list("customer__external_id", flat=True)) == ["acme"]
    assert sorted(TaxRate.objects.values_list("code", "percentage")) == [
        ("us-sales", Decimal("7.2500")),
        ("vat", Decimal("20.0000")),
    ]
    # and acme's running period takes the coupon off (up to $20) and VAT on what remains
    subscription = Subscription.objects.get(external_id="acme-professional")
    running = running_period_get(subscription=subscription)
    priced = sum(line.amount for line in running.lines if line.kind not in ("coupon", "tax"))
    coupon = [line.amount for line in running.lines if line.kind == "coupon"]
    taxes = [line.description for line in running.lines if line.kind == "tax"]
    assert coupon == [-min(Decimal("20.00"), priced)]
    assert taxes == (["VAT (20 %)"] if priced > Decimal("20.00") else [])
    assert running.total == sum(line.amount for line in running.lines)
