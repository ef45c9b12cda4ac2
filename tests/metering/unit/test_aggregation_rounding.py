from decimal import Decimal
from types import SimpleNamespace

import pytest

from metering.aggregation import metric_definition_hash, round_quantity, usage_sql


@pytest.mark.parametrize(
    ("_case", "value", "rounding", "precision", "expected"),
    [
        ("none", "1.23456", "none", 0, "1.23456"),
        ("half up", "1.005", "round", 2, "1.01"),
        ("half up at zero places", "0.5", "round", 0, "1"),
        ("below half", "1.0049", "round", 2, "1.00"),
        ("negative half away from zero", "-1.005", "round", 2, "-1.01"),
        ("ceil", "1.001", "ceil", 2, "1.01"),
        ("ceil negative", "-1.009", "ceil", 2, "-1.00"),
        ("floor", "1.009", "floor", 2, "1.00"),
        ("floor negative", "-1.001", "floor", 2, "-1.01"),
        ("pads to the precision", "3", "round", 3, "3.000"),
        (
            "beyond 28 digits",
            "123456789012345678901234567890.55",
            "round",
            1,
            "123456789012345678901234567890.6",
        ),
    ],
)
def test_round_quantity(_case, value, rounding, precision, expected):
    assert str(round_quantity(Decimal(value), rounding, precision)) == expected


def _metric(**fields):
    defaults = {
        "code": "calls",
        "aggregation": "sum",
        "field_name": "n",
        "filters": {"region": ["eu", "us"]},
        "weights": None,
        "rounding": "none",
        "rounding_precision": 0,
    }
    return SimpleNamespace(**{**defaults, **fields})


def test_definition_hash_ignores_rounding_and_filter_value_order():
    assert metric_definition_hash(_metric()) == metric_definition_hash(
        _metric(filters={"region": ["us", "eu"]}, rounding="ceil", rounding_precision=2)
    )


@pytest.mark.parametrize(
    "change",
    [
        {"code": "calls2"},
        {"aggregation": "max"},
        {"field_name": "m"},
        {"filters": {"region": ["eu"]}},
        {"weights": {"property": "tier", "values": {"premium": 2}}},
    ],
)
def test_definition_hash_changes_with_what_events_count(change):
    assert metric_definition_hash(_metric()) != metric_definition_hash(_metric(**change))


def test_filter_values_are_passed_as_json_text_parameters():
    # given
    metric = _metric(filters={"flag": [True, 2, 1.5, "x"]})
    # when
    _, params = usage_sql(metric, start=SimpleNamespace(), end=SimpleNamespace())
    # then
    assert ["1.5", "2", "true", "x"] in params
