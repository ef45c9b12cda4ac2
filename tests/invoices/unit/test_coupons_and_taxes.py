from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoices.discounts import (
    CouponSpec,
    DiscountableLine,
    TaxRateSpec,
    allocate,
    coupons_apply,
    invoice_adjust,
    tax_rates_in_force,
)

D = Decimal
VAT = TaxRateSpec(code="vat20", name="VAT 20%", percentage=D("20"))
REDUCED = TaxRateSpec(code="vat5_5", name="VAT 5.5%", percentage=D("5.5"))


def test_metric_coupons_apply_before_plan_coupons_before_general_ones_oldest_first():
    # given: a base fee and two usage lines; three coupons applied in the opposite order
    lines = [
        DiscountableLine("base", D("50.00"), plan_code="pro"),
        DiscountableLine("calls", D("30.00"), metric_code="api_calls", plan_code="pro"),
        DiscountableLine("storage", D("20.00"), metric_code="storage_gb", plan_code="pro"),
    ]
    general = CouponSpec("general", "fixed", order="2026-01-01", amount=D("60.00"))
    plan = CouponSpec("plan", "percentage", order="2026-02-01", rate=D("10"), plan_codes={"pro"})
    metric = CouponSpec(
        "metric", "fixed", order="2026-03-01", amount=D("40.00"), metric_codes={"api_calls"}
    )
    # when
    applications, net = coupons_apply(lines, [general, plan, metric], "USD")
    # then: metric coupon capped at the 30.00 calls line; 10 % of the remaining 70.00; the
    # general coupon takes 60.00 of the 63.00 left (45.00 : 18.00 -> 42.85 + 17.15)
    assert [(a.coupon_key, a.amount) for a in applications] == [
        ("metric", D("30.00")),
        ("plan", D("7.00")),
        ("general", D("60.00")),
    ]
    assert applications[0].balance_left == D("10.00")
    assert applications[1].balance_left is None
    assert applications[2].balance_left == D("0.00")
    assert net == {"base": D("2.15"), "calls": D("0.00"), "storage": D("0.85")}


def test_fixed_coupon_larger_than_the_invoice_carries_its_balance():
    lines = [DiscountableLine("base", D("19.99"))]
    coupon = CouponSpec("welcome", "fixed", order="1", amount=D("50.00"))
    applications, net = coupons_apply(lines, [coupon], "USD")
    assert applications[0].amount == D("19.99")
    assert applications[0].balance_left == D("30.01")
    assert net["base"] == D("0.00")


def test_percentage_coupon_on_tiered_lines_spreads_with_the_last_line_taking_the_remainder():
    # given: three tier-priced lines whose 15 % shares do not round evenly
    lines = [
        DiscountableLine("tier1", D("10.01")),
        DiscountableLine("tier2", D("10.01")),
        DiscountableLine("tier3", D("10.01")),
    ]
    coupon = CouponSpec("fifteen", "percentage", order="1", rate=D("15"))
    # when
    applications, net = coupons_apply(lines, [coupon], "USD")
    # then: 15 % of 30.03 = 4.5045 -> 4.50; 1.50 + 1.50 and the last line 1.50
    assert applications[0].amount == D("4.50")
    assert applications[0].per_line == (
        ("tier1", D("1.50")),
        ("tier2", D("1.50")),
        ("tier3", D("1.50")),
    )
    assert sum(net.values()) == D("25.53")


def test_remainder_goes_to_the_last_line():
    assert allocate(D("10.00"), [D("5"), D("5"), D("5")], "USD") == [
        D("3.33"),
        D("3.33"),
        D("3.34"),
    ]


def test_yen_is_allocated_in_whole_yen():
    assert allocate(D("100"), [D("333"), D("333"), D("334")], "JPY") == [D("33"), D("33"), D("34")]


def test_a_last_line_too_small_for_the_remainder_passes_it_back():
    # 0.02 over [0.01, 0.01, 0.01, 0.01]: shares 0.005 round down to 0, the last holds only 0.01
    assert allocate(D("0.02"), [D("0.01")] * 4, "USD") == [D("0"), D("0"), D("0.01"), D("0.01")]


def test_credit_lines_are_never_discounted():
    lines = [DiscountableLine("usage", D("10.00")), DiscountableLine("credits", D("-4.00"))]
    applications, net = coupons_apply(
        lines, [CouponSpec("all", "percentage", order="1", rate=D("50"))], "USD"
    )
    assert applications[0].per_line == (("usage", D("5.00")),)
    assert net == {"usage": D("5.00"), "credits": D("-4.00")}


def test_tax_is_per_line_on_the_discounted_amount_rounded_once_per_line_and_summed_per_rate():
    # given: two lines taxed at two rates, one discounted
    lines = [DiscountableLine("a", D("10.05")), DiscountableLine("b", D("0.10"))]
    coupon = CouponSpec("c", "fixed", order="1", amount=D("0.05"), metric_codes=frozenset())
    rates = {"a": [VAT, REDUCED], "b": [VAT]}
    # when
    result = invoice_adjust(lines, coupons=[coupon], rates_by_line=rates, currency="USD")
    # then: 0.05 spread as 0.04 (a) + 0.01 (b); a: 10.01 -> VAT 2.002 -> 2.00, 5.5 % 0.55055 ->
    # 0.55; b: 0.09 -> VAT 0.018 -> 0.02
    assert result.net_by_line == {"a": D("10.01"), "b": D("0.09")}
    assert [(t.line_key, t.rate_code, t.amount) for t in result.line_taxes] == [
        ("a", "vat20", D("2.00")),
        ("a", "vat5_5", D("0.55")),
        ("b", "vat20", D("0.02")),
    ]
    assert [(r.rate.code, r.taxable, r.amount) for r in result.rate_totals] == [
        ("vat20", D("10.10"), D("2.02")),
        ("vat5_5", D("10.01"), D("0.55")),
    ]
    assert result.subtotal == D("10.15")
    assert result.discount_total == D("0.05")
    assert result.tax_total == D("2.57")
    assert result.total == D("12.67")


def test_the_most_specific_tax_rates_win():
    assert tax_rates_in_force(plan_version=[REDUCED], customer=[VAT], organization=[VAT]) == (
        REDUCED,
    )
    assert tax_rates_in_force(customer=[VAT], organization=[REDUCED]) == (VAT,)
    assert tax_rates_in_force(organization=[REDUCED]) == (REDUCED,)
    assert tax_rates_in_force() == ()


@pytest.mark.parametrize(
    ("_case", "kwargs"),
    [
        ("fixed without amount", {"kind": "fixed"}),
        ("negative fixed", {"kind": "fixed", "amount": D("-1")}),
        ("rate above 100", {"kind": "percentage", "rate": D("101")}),
        ("unknown kind", {"kind": "bogo", "amount": D("1")}),
    ],
)
def test_invalid_coupon_terms_are_refused(_case, kwargs):
    with pytest.raises(ValueError, match="oupon"):
        CouponSpec("x", order="1", **kwargs)


cents = st.integers(min_value=0, max_value=10_000_000).map(lambda n: D(n).scaleb(-2))


@given(weights=st.lists(cents, min_size=1, max_size=12), share=st.fractions(0, 1))
def test_allocation_sums_exactly_and_never_exceeds_a_part(weights, share):
    capacity = sum(weights, D(0))
    total = (capacity * D(share.numerator) / D(share.denominator)).quantize(D("0.01"), "ROUND_DOWN")
    parts = allocate(total, weights, "USD")
    assert sum(parts, D(0)) == total
    assert all(D(0) <= part <= weight for part, weight in zip(parts, weights, strict=True))
    assert all(part == part.quantize(D("0.01")) for part in parts)


coupon_strategy = st.builds(
    CouponSpec,
    key=st.uuids().map(str),
    kind=st.just("fixed"),
    order=st.text(alphabet="0123456789", min_size=1, max_size=3),
    amount=cents,
    metric_codes=st.sets(st.sampled_from(["calls", "tokens"]), max_size=1).map(frozenset),
) | st.builds(
    CouponSpec,
    key=st.uuids().map(str),
    kind=st.just("percentage"),
    order=st.text(alphabet="0123456789", min_size=1, max_size=3),
    rate=st.integers(0, 10_000).map(lambda n: D(n).scaleb(-2)),
    plan_codes=st.sets(st.sampled_from(["pro", "team"]), max_size=1).map(frozenset),
)
line_strategy = st.builds(
    DiscountableLine,
    key=st.uuids().map(str),
    amount=cents,
    metric_code=st.sampled_from(["", "calls", "tokens"]),
    plan_code=st.sampled_from(["", "pro", "team"]),
)


@given(
    lines=st.lists(line_strategy, min_size=1, max_size=8, unique_by=lambda line: line.key),
    coupons=st.lists(coupon_strategy, max_size=5, unique_by=lambda c: c.key),
)
def test_discounted_invoice_reconciles_to_the_cent(lines, coupons):
    result = invoice_adjust(lines, coupons=coupons, rates_by_line={}, currency="USD")
    assert all(amount >= 0 for amount in result.net_by_line.values())
    assert sum(result.net_by_line.values(), D(0)) == result.subtotal - result.discount_total
    for application in result.coupons:
        assert sum((part for _, part in application.per_line), D(0)) == application.amount
    assert result.total == result.subtotal - result.discount_total
