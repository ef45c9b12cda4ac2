"""The version compare names each change in words. No database."""

import pytest

from plans.selectors.diff import FieldChange, change_label


@pytest.mark.parametrize(
    ("_case", "path", "label"),
    [
        (
            "a tier's unit price",
            "properties.graduated_ranges[1].per_unit_amount",
            "Tier 2 price per unit",
        ),
        ("a volume tier's bound", "properties.volume_ranges[0].to_value", "Tier 1 to"),
        ("a standard price", "properties.amount", "Price"),
        ("a percentage rate", "properties.rate", "Rate (%)"),
        ("a filter's price", "filters.region: eu.properties.amount", "Filter region: eu: price"),
        (
            "a filter's tier",
            "filters.region: us.properties.graduated_ranges[0].flat_amount",
            "Filter region: us: tier 1 flat amount",
        ),
        (
            "a filter's invoice name",
            "filters.region: eu.invoice_display_name",
            "Filter region: eu: invoice name",
        ),
        ("the minimum", "min_amount", "Minimum per period"),
        ("a feature limit", "limit", "Limit"),
        ("a version field", "base_fee", "Base fee"),
    ],
)
def test_a_changed_field_is_labelled_in_words(_case, path, label):
    assert change_label(path) == label


def test_a_field_change_carries_its_label():
    change = FieldChange("properties.graduated_ranges[1].per_unit_amount", "0.0020", "0.0018")
    assert (
        f"{change.label}: {change.old} → {change.new}" == "Tier 2 price per unit: 0.0020 → 0.0018"
    )
