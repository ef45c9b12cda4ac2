"""Coupons and taxes cost a fixed few queries per invoice computed, whatever its lines: the
customer's coupons (with their limits) and the tax rates in force, in one query each."""

import pytest

from invoices.selectors.adjustments import coupon_and_tax_lines
from invoices.selectors.lines import priced_lines
from invoices.selectors.usage import UsageLookup
from invoices.services.coupons import coupon_apply
from tests.invoices.adjustment_factories import make_coupon, make_tax_rate
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc

pytestmark = pytest.mark.django_db


def _priced(subscription):
    return priced_lines(
        subscription=subscription,
        kind="period",
        period_start=utc(2026, 1, 1),
        period_end=utc(2026, 2, 1),
        lookup=UsageLookup(),
        now=utc(2026, 2, 1, 0, 5),
    )


def test_without_coupons_or_taxes_two_queries_and_no_lines(django_assert_num_queries):
    subscription = subscribe(plan_version(), started_at=utc(2026, 1, 1))
    lines = _priced(subscription)

    with django_assert_num_queries(2):
        extra = coupon_and_tax_lines(customer=subscription.customer, currency="USD", lines=lines)

    assert extra == []


def test_with_coupons_and_rates_of_every_kind_four_queries(django_assert_num_queries):
    # given a version rate, a customer rate, a default rate and two coupons
    version = plan_version()
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    send_tokens("acme", 1500, at=utc(2026, 1, 10))
    make_tax_rate("vat", "20", default=True)
    make_tax_rate("local", "5", customers=[subscription.customer])
    make_tax_rate("digital", "10", versions=[version])
    coupon_apply(customer=subscription.customer, code=make_coupon("ten", percentage="10").code)
    coupon_apply(
        customer=subscription.customer, code=make_coupon("tok", amount="5", metrics=["tokens"]).code
    )
    lines = _priced(subscription)

    # when: coupons, their plan and metric limits, and the rates
    with django_assert_num_queries(4):
        extra = coupon_and_tax_lines(customer=subscription.customer, currency="USD", lines=lines)

    # then two coupon lines and the version's rate only (the most specific)
    assert [(line.kind, line.description) for line in extra] == [
        ("coupon", "Coupon Tok (tok): $5.00 off"),
        ("coupon", "Coupon Ten (ten): 10 % off"),
        ("tax", "DIGITAL (10 %)"),
    ]
