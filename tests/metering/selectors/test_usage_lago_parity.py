"""Smaller differences from Lago's aggregation specs: negative latest values, gauges of changes,
rounding to tens and hundreds."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from metering.aggregation import UsageResult, round_quantity
from metering.models import Aggregation
from metering.rollups import usage_rollups_refresh
from metering.selectors import usage_get

pytestmark = pytest.mark.django_db

START = datetime(2026, 4, 1, tzinfo=UTC)
END = datetime(2026, 5, 1, tzinfo=UTC)  # 30 days


def _day(n: float) -> datetime:
    return START + timedelta(days=n)


def _usage(metric, start=START, end=END):
    return usage_get(metric=metric, customer_id="acme", start=start, end=end)


def test_a_negative_latest_value_counts_as_zero(metric_factory, event_factory):
    # given a balance whose latest value is -5
    balance = metric_factory("balance", aggregation=Aggregation.LAST, field_name="value")
    event_factory(_day(1), {"value": 12}, code="balance")
    event_factory(_day(2), {"value": -5}, code="balance")
    # when / then
    assert _usage(balance) == UsageResult(quantity=Decimal(0), event_count=2)


@pytest.mark.parametrize("refreshed", [False, True])
def test_a_gauge_of_levels_and_a_gauge_of_changes_read_the_same_events_differently(
    metric_factory, event_factory, refreshed
):
    # given the same events +2 on day 0, +3 on day 15 and -1 on day 24, twice at day 15
    level = metric_factory("seats_level", aggregation=Aggregation.WEIGHTED_SUM, field_name="n")
    change = metric_factory(
        "seats_change",
        aggregation=Aggregation.WEIGHTED_SUM,
        field_name="n",
        weighted_sum_mode="change",
    )
    for code in ("seats_level", "seats_change"):
        event_factory(_day(0), {"n": 2}, code=code)
        event_factory(_day(15), {"n": 3}, code=code)
        event_factory(_day(15), {"n": 1}, code=code)
        event_factory(_day(24), {"n": -1}, code=code)
    if refreshed:
        usage_rollups_refresh()
    # when / then
    # level: 2 for 15 days, then 1 (the later event of day 15) for 9 days, then -1 for 6:
    # (30 + 9 - 6) / 30 = 1.1
    assert _usage(level).quantity == Decimal("1.1")
    # change: 2 for 15 days, 2+3+1 = 6 for 9 days (events at one instant add up), 5 for 6:
    # (30 + 54 + 30) / 30 = 3.8
    assert _usage(change) == UsageResult(quantity=Decimal("3.8"), event_count=4)


def test_a_gauge_of_changes_restarts_at_zero_unless_recurring(metric_factory, event_factory):
    # given +4 in March and +2 on April 16 (15 of 30 days remain)
    plain = metric_factory(
        "gauge", aggregation=Aggregation.WEIGHTED_SUM, field_name="n", weighted_sum_mode="change"
    )
    recurring = metric_factory(
        "gauge_r",
        aggregation=Aggregation.WEIGHTED_SUM,
        field_name="n",
        weighted_sum_mode="change",
        recurring=True,
    )
    for code in ("gauge", "gauge_r"):
        event_factory(START - timedelta(days=10), {"n": 4}, code=code)
        event_factory(_day(15), {"n": 2}, code=code)
    # when / then: 2 × 15/30 = 1 without carry; 4 + 1 = 5 carrying March's 4
    assert _usage(plain).quantity == Decimal(1)
    assert _usage(recurring).quantity == Decimal(5)


@pytest.mark.parametrize(
    ("_case", "rounding", "precision", "expected"),
    [
        ("round to hundreds", "round", -2, "1300"),
        ("round to tens", "round", -1, "1250"),
        ("ceil to hundreds", "ceil", -2, "1300"),
        ("floor to thousands", "floor", -3, "1000"),
    ],
)
def test_rounding_precision_may_be_negative(_case, rounding, precision, expected):
    # given / when
    rounded = round_quantity(Decimal("1250.4"), rounding, precision)
    # then the value prints without an exponent
    assert str(rounded) == expected


def test_a_metric_rounded_to_hundreds_reports_hundreds(metric_factory, event_factory):
    # given 1,234 + 17 tokens, rounded half up to hundreds
    tokens = metric_factory(
        "tokens",
        aggregation=Aggregation.SUM,
        field_name="n",
        rounding="round",
        rounding_precision=-2,
    )
    event_factory(_day(1), {"n": 1234}, code="tokens")
    event_factory(_day(2), {"n": 17}, code="tokens")
    # when / then
    assert _usage(tokens) == UsageResult(quantity=Decimal(1300), event_count=2)
