"""Taxes on real invoices: per line on the amount after coupons, rounded once per line, shown
per rate, the most specific rates winning; the total stays the sum of the lines."""

from decimal import Decimal

import pytest

from invoices.services import subscription_bill_due
from invoices.services.coupons import coupon_apply
from tests.invoices.adjustment_factories import make_coupon, make_tax_rate
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc
from tests.plans.factories import make_customer

pytestmark = pytest.mark.django_db

JAN_1, FEB_1 = utc(2026, 1, 1), utc(2026, 2, 1, 0, 5)


def _taxes(invoice) -> list[tuple[str, Decimal, Decimal]]:
    return [
        (line.description, line.quantity, line.amount)
        for line in invoice.lines.filter(kind="tax").order_by("position")
    ]


def test_tax_is_rounded_once_per_line_and_shown_once_per_rate():
    # given a customer with two rates of its own, on a $49.99 plan with $25 of tokens
    customer = make_customer("acme")
    make_tax_rate("state", "7.5", customers=[customer])
    make_tax_rate("city", "2", customers=[customer])
    subscription = subscribe(plan_version(base_fee="49.99"), started_at=JAN_1)
    send_tokens("acme", 1500, at=utc(2026, 1, 10))

    # when January is billed
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then 7.5 %: 3.74925 -> 3.75 and 1.875 -> 1.88 make $5.63 (not 5.62 on the sum);
    # 2 %: 0.9998 -> 1.00 and 0.50 make $1.50; one line per rate, by code
    assert _taxes(invoice) == [
        ("CITY (2 %)", Decimal("74.99"), Decimal("1.50")),
        ("STATE (7.5 %)", Decimal("74.99"), Decimal("5.63")),
    ]
    state = invoice.lines.get(kind="tax", breakdown__rate_code="state")
    assert [row[2] for row in state.breakdown["per_line"]] == ["3.75", "1.88"]
    assert invoice.total == Decimal("82.12")
    assert invoice.total == sum(invoice.lines.values_list("amount", flat=True))


def test_tax_is_computed_on_the_amount_after_coupons():
    # given the organization's 20 % and a 10 % coupon on $49 + $25
    make_tax_rate("vat", "20", default=True)
    subscription = subscribe(plan_version(), started_at=JAN_1)
    send_tokens("acme", 1500, at=utc(2026, 1, 10))
    coupon_apply(customer=subscription.customer, code=make_coupon("ten", percentage="10").code)

    # when
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then the coupon comes before the tax: 20 % of $44.10 + 20 % of $22.50
    assert [(line.kind, line.amount) for line in invoice.lines.order_by("position")] == [
        ("base_fee", Decimal("49.00")),
        ("usage", Decimal("25.00")),
        ("coupon", Decimal("-7.40")),
        ("tax", Decimal("13.32")),
    ]
    assert _taxes(invoice) == [("VAT (20 %)", Decimal("66.60"), Decimal("13.32"))]
    assert invoice.total == Decimal("79.92")


def test_the_most_specific_rates_win_plan_version_then_customer_then_organization():
    # given a default 20 %, acme's own 7.5 %, and 10 % on the "pro" version
    pro = plan_version("pro", charges={})
    team = plan_version("team", charges={})
    make_tax_rate("vat", "20", default=True)
    make_tax_rate("local", "7.5", customers=[make_customer("acme"), make_customer("gamma")])
    make_tax_rate("digital", "10", versions=[pro])
    subscriptions = [
        subscribe(pro, "acme", started_at=JAN_1),  # version rate beats its own
        subscribe(team, "gamma", started_at=JAN_1),  # its own rate beats the default
        subscribe(team, "beta", started_at=JAN_1),  # only the default
    ]

    # when January is billed for each
    invoices = [subscription_bill_due(subscription_id=s.pk, now=FEB_1)[0] for s in subscriptions]

    # then
    assert [_taxes(invoice) for invoice in invoices] == [
        [("DIGITAL (10 %)", Decimal("49.00"), Decimal("4.90"))],
        [("LOCAL (7.5 %)", Decimal("49.00"), Decimal("3.68"))],
        [("VAT (20 %)", Decimal("49.00"), Decimal("9.80"))],
    ]
