"""Pricing groups in `plans.pricing` and a charge's filters/proration rules in
`plans.charge_filters` (pure, no database)."""

from decimal import Decimal

import pytest

from plans.charge_filters import charge_errors, filters_by_specificity
from plans.pricing import price, validate_properties
from plans.pricing_groups import price_groups


def test_standard_grouped_by_region_prices_each_group():
    # given standard {amount: 10, grouped_by: [region]}: 2 events in us, 1 in eu
    properties = {"amount": "10", "grouped_by": ["region"]}
    # when
    results = price_groups(
        "standard", properties, {(("region", "us"),): Decimal(2), (("region", "eu"),): Decimal(1)}
    )
    # then
    assert [(r.group, r.result.amount) for r in results] == [
        ((("region", "us"),), Decimal(20)),
        ((("region", "eu"),), Decimal(10)),
    ]


def test_free_units_and_tiers_apply_per_group():
    # given 1 free unit per group
    properties = {"amount": "3", "free_units": "1", "pricing_group_keys": ["model"]}
    # when
    results = price_groups(
        "standard", properties, {(("model", "a"),): Decimal(2), (("model", "b"),): Decimal(1)}
    )
    # then (2-1) x 3 and (1-1) x 3
    assert [r.result.amount for r in results] == [Decimal(3), Decimal(0)]


def test_price_accepts_grouped_by_and_ignores_it_for_one_groups_units():
    assert price("standard", {"amount": "10", "grouped_by": ["region"]}, Decimal(3)).amount == 30


@pytest.mark.parametrize("keys", ["region", [""], ["a", "a"], [1]])
def test_grouping_keys_must_be_distinct_property_names(keys):
    assert list(validate_properties("standard", {"amount": "1", "grouped_by": keys})) == [
        "grouped_by"
    ]


def test_the_most_specific_filter_is_tried_first_then_the_listed_order():
    filters = [
        {"values": {"region": ["us"]}},
        {"values": {"region": ["us"], "tier": ["gpu"]}},
        {"values": {"tier": ["gpu"]}},
    ]
    assert filters_by_specificity(filters) == [1, 0, 2]


def _errors(**overrides):
    charge = {
        "charge_model": "standard",
        "properties": {"amount": "1"},
        "filters": [],
        "prorated": False,
        "metric_aggregation": "unique_count",
        "metric_recurring": True,
    }
    return charge_errors(**(charge | overrides))


@pytest.mark.parametrize(
    ("_case", "overrides", "field"),
    [
        (
            "package prorated",
            {
                "charge_model": "package",
                "prorated": True,
                "properties": {"amount": "1", "package_size": 10},
            },
            "prorated",
        ),
        (
            "percentage prorated",
            {"charge_model": "percentage", "prorated": True, "properties": {"rate": "1"}},
            "prorated",
        ),
        ("not recurring", {"prorated": True, "metric_recurring": False}, "prorated"),
        (
            "percentage on a recurring metric",
            {"charge_model": "percentage", "properties": {"rate": "1"}},
            "charge_model",
        ),
        ("a max metric", {"prorated": True, "metric_aggregation": "max"}, "prorated"),
        (
            "filter without values",
            {"filters": [{"values": {}, "properties": {"amount": "1"}}]},
            "filters[0].values",
        ),
        (
            "filter price invalid",
            {"filters": [{"values": {"r": ["eu"]}, "properties": {}}]},
            "filters[0].properties.amount",
        ),
        (
            "repeated filter",
            {"filters": [{"values": {"r": ["eu"]}, "properties": {"amount": 1}}] * 2},
            "filters[1].values",
        ),
        ("no default without filters", {"properties": {}}, "properties.amount"),
    ],
)
def test_charge_configurations_lago_refuses_are_refused_by_field(_case, overrides, field):
    assert field in _errors(**overrides)


def test_a_prorated_graduated_seat_charge_with_filters_and_no_default_is_valid():
    tiers = [
        {"from_value": 0, "to_value": 5, "per_unit_amount": "10"},
        {"from_value": 6, "to_value": None, "per_unit_amount": "8"},
    ]
    assert (
        _errors(
            charge_model="graduated",
            properties={},
            prorated=True,
            filters=[{"values": {"role": ["admin"]}, "properties": {"graduated_ranges": tiers}}],
        )
        == {}
    )
