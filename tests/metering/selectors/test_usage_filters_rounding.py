from datetime import UTC, datetime
from decimal import Decimal

import pytest

from metering.aggregation import UsageResult
from metering.models import Aggregation, Rounding
from metering.selectors import usage_get

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
MID = datetime(2026, 3, 15, 12, tzinfo=UTC)


def _usage(metric):
    return usage_get(metric=metric, customer_id="acme", start=START, end=END)


def test_filters_and_across_keys_and_or_within_a_keys_values(metric_factory, event_factory):
    # given a metric for gpt-4o or gpt-4o-mini in the eu
    metric = metric_factory(
        "tokens",
        aggregation=Aggregation.SUM,
        field_name="tokens",
        filters={"model": ["gpt-4o", "gpt-4o-mini"], "region": ["eu"]},
    )
    event_factory(MID, {"tokens": 1, "model": "gpt-4o", "region": "eu"}, code="tokens")
    event_factory(MID, {"tokens": 2, "model": "gpt-4o-mini", "region": "eu"}, code="tokens")
    event_factory(MID, {"tokens": 4, "model": "gpt-4o", "region": "us"}, code="tokens")
    event_factory(MID, {"tokens": 8, "model": "o1", "region": "eu"}, code="tokens")
    event_factory(MID, {"tokens": 16, "model": "gpt-4o"}, code="tokens")
    # when
    usage = _usage(metric)
    # then
    assert usage == UsageResult(quantity=Decimal(3), event_count=2)


@pytest.mark.parametrize(
    ("_case", "filter_values", "matching", "not_matching"),
    [
        ("boolean", [True], [True, "true"], [False, "True", 1]),
        ("integer", [2], [2, "2"], [2.5, "two"]),
        ("decimal", [1.5], [1.5, "1.5"], [1, "1.50"]),
        ("string", ["eu"], ["eu"], ["EU", None]),
    ],
)
def test_filters_compare_values_by_their_json_text(
    metric_factory, event_factory, _case, filter_values, matching, not_matching
):
    # given
    metric = metric_factory(filters={"flag": filter_values})
    for value in matching + not_matching:
        event_factory(MID, {"flag": value})
    # when
    usage = _usage(metric)
    # then
    assert usage.event_count == len(matching)


def test_a_filter_applies_to_count_metrics_too(metric_factory, event_factory):
    # given
    metric = metric_factory(filters={"status": ["ok", "cached"]})
    for status in ("ok", "cached", "error", "ok"):
        event_factory(MID, {"status": status})
    # when
    usage = _usage(metric)
    # then
    assert usage == UsageResult(quantity=Decimal(3), event_count=3)


@pytest.mark.parametrize(
    ("_case", "rounding", "precision", "total", "expected"),
    [
        ("none keeps every digit", Rounding.NONE, 0, "2.345", Decimal("2.345")),
        ("round half up", Rounding.ROUND, 2, "2.345", Decimal("2.35")),
        ("round below half", Rounding.ROUND, 2, "2.3449", Decimal("2.34")),
        ("round half up negative", Rounding.ROUND, 0, "-2.5", Decimal("-3")),
        ("round to integer", Rounding.ROUND, 0, "2.5", Decimal("3")),
        ("ceil", Rounding.CEIL, 1, "2.301", Decimal("2.4")),
        ("ceil integer", Rounding.CEIL, 0, "2.000001", Decimal("3")),
        ("floor", Rounding.FLOOR, 1, "2.399", Decimal("2.3")),
        ("floor negative", Rounding.FLOOR, 0, "-2.1", Decimal("-3")),
    ],
)
def test_rounding_applies_once_to_the_period_result(
    metric_factory, event_factory, _case, rounding, precision, total, expected
):
    # given a total split over two events, each of which would round differently on its own
    metric = metric_factory(
        "gb",
        aggregation=Aggregation.SUM,
        field_name="gb",
        rounding=rounding,
        rounding_precision=precision,
    )
    half = Decimal(total) / 2
    event_factory(MID, {"gb": str(half)}, code="gb")
    event_factory(MID, {"gb": str(Decimal(total) - half)}, code="gb")
    # when
    usage = _usage(metric)
    # then
    assert usage.quantity == expected
    if rounding != Rounding.NONE:
        assert str(usage.quantity) == str(expected)


def test_rounding_of_an_empty_period_gives_zero_at_the_precision(metric_factory):
    # given
    metric = metric_factory(
        "gb", aggregation=Aggregation.SUM, field_name="gb", rounding="ceil", rounding_precision=2
    )
    # when
    usage = _usage(metric)
    # then
    assert str(usage.quantity) == "0.00"
