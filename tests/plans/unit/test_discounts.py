"""Percentage discounts of overrides: exact on every charge model. No database."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.discounts import (
    DiscountError,
    discount_percent_parse,
    discounted_amount,
    discounted_filters,
    discounted_properties,
)
from plans.pricing import price, validate_properties

FAST = settings(max_examples=150, deadline=None)

percent_st = st.decimals(min_value="0.01", max_value=100, places=2)
units_st = st.decimals(min_value=0, max_value=30000, places=3)
price_st = st.decimals(min_value=0, max_value=5, places=6).map(str)


@st.composite
def charges(draw):
    model = draw(st.sampled_from(["standard", "package", "graduated", "volume", "percentage"]))
    if model == "standard":
        return model, {"amount": draw(price_st), "free_units": draw(st.integers(0, 500))}
    if model == "package":
        return model, {"amount": draw(price_st), "package_size": draw(st.integers(1, 500))}
    if model == "percentage":
        low, high = sorted(draw(st.lists(st.decimals(0, 20, places=2), min_size=2, max_size=2)))
        return model, {
            "rate": str(draw(st.decimals(0, 100, places=3))),
            "fixed_amount": draw(price_st),
            "free_units_per_events": draw(st.integers(0, 2)),
            "per_transaction_min_amount": str(low),
            "per_transaction_max_amount": str(high),
        }
    bounds = sorted(draw(st.lists(st.integers(1, 20000), min_size=1, max_size=3, unique=True)))
    tiers, start = [], 0
    for end in [*bounds, None]:
        tiers.append(
            {
                "from_value": start,
                "to_value": end,
                "per_unit_amount": draw(price_st),
                "flat_amount": draw(price_st),
            }
        )
        start = (end or 0) + 1
    return model, {f"{model}_ranges": tiers}


@FAST
@given(charge=charges(), percent=percent_st, units=units_st)
def test_a_discount_takes_exactly_its_share_of_any_charge_amount(charge, percent, units):
    # given
    model, properties = charge
    values = [units / 2, units - units / 2] if model == "percentage" and units else []
    # when
    discounted = discounted_properties(model, properties, percent)
    # then
    assert validate_properties(model, discounted) == {}
    full = price(model, properties, units, values).amount
    assert price(model, discounted, units, values).amount == full * (100 - percent) / 100


def test_a_twenty_percent_discount_on_graduated_tiers_lowers_prices_not_bounds():
    # given
    tiers = [
        {"from_value": 0, "to_value": 10000, "per_unit_amount": "0", "flat_amount": "0"},
        {"from_value": 10001, "to_value": None, "per_unit_amount": "0.002", "flat_amount": "5"},
    ]
    # when
    result = discounted_properties("graduated", {"graduated_ranges": tiers}, Decimal("20"))
    # then
    assert result["graduated_ranges"][1] == {
        "from_value": 10001,
        "to_value": None,
        "per_unit_amount": "0.0016",
        "flat_amount": "4.0",
    }
    assert price("graduated", result, Decimal("20000")).amount == Decimal("20.0000")


def test_a_discount_leaves_free_units_and_package_sizes_alone():
    # given
    properties = {"amount": "10", "package_size": 100, "free_units": 50}
    # when
    result = discounted_properties("package", properties, Decimal("25"))
    # then
    assert result == {"amount": "7.50", "package_size": 100, "free_units": 50}


def test_each_filter_price_is_discounted_like_the_default():
    # given
    filters = ({"values": {"region": ["eu"]}, "properties": {"amount": "2"}},)
    # when
    result = discounted_filters("standard", filters, Decimal("50"))
    # then
    assert result == ({"values": {"region": ["eu"]}, "properties": {"amount": "1.0"}},)


def test_a_base_fee_discount_is_exact_and_unrounded():
    assert discounted_amount(Decimal("49.00"), Decimal("12.5")) == Decimal("42.875")
    assert discounted_amount(Decimal("49.00"), Decimal("100")) == Decimal("0")


@pytest.mark.parametrize(
    ("_case", "value"),
    [
        ("zero", "0"),
        ("negative", "-5"),
        ("over a hundred", "100.01"),
        ("not a number", "ten"),
        ("a float", 12.5),
        ("infinite", "Infinity"),
        ("a boolean", True),
    ],
)
def test_a_discount_outside_zero_to_a_hundred_percent_is_refused(_case, value):
    with pytest.raises(DiscountError):
        discount_percent_parse(value)


def test_a_discount_is_read_from_text_or_integers():
    assert discount_percent_parse(" 15.5 ") == Decimal("15.5")
    assert discount_percent_parse(100) == Decimal("100")
