from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from metering.aggregation import UsageResult
from metering.models import Aggregation
from metering.selectors import usage_by_customer_for_period, usage_get

pytestmark = pytest.mark.django_db

# A 30-day period: 2,592,000 seconds.
START = datetime(2026, 4, 1, tzinfo=UTC)
END = datetime(2026, 5, 1, tzinfo=UTC)


def _day(n: float) -> datetime:
    return START + timedelta(days=n)


@pytest.fixture
def seats(metric_factory):
    return metric_factory("seats", aggregation=Aggregation.WEIGHTED_SUM, field_name="seats")


def _usage(metric, **kwargs):
    return usage_get(metric=metric, customer_id="acme", start=START, end=END, **kwargs)


def test_without_a_prior_value_the_gauge_counts_from_its_first_event(seats, event_factory):
    # given 10 seats from day 15 to the end of a 30-day period
    event_factory(_day(15), {"seats": 10}, code="seats")
    # when
    usage = _usage(seats)
    # then
    assert usage == UsageResult(quantity=Decimal(5), event_count=1)


def test_a_value_from_before_the_period_is_carried_in(seats, event_factory):
    # given 4 seats set long before, 10 from day 15, 20 from day 27
    event_factory(START - timedelta(days=90), {"seats": 1}, code="seats")
    event_factory(START - timedelta(days=40), {"seats": 4}, code="seats")
    event_factory(_day(15), {"seats": 10}, code="seats")
    event_factory(_day(27), {"seats": 20}, code="seats")
    # when
    usage = _usage(seats)
    # then (4*15 + 10*12 + 20*3) / 30, trailing zeros trimmed
    assert usage == UsageResult(quantity=Decimal(8), event_count=2)
    assert str(usage.quantity) == "8"


def test_a_carried_in_value_alone_holds_for_the_whole_period(seats, event_factory):
    # given
    event_factory(START - timedelta(seconds=1), {"seats": "7.5"}, code="seats")
    # when
    usage = _usage(seats)
    # then
    assert usage == UsageResult(quantity=Decimal("7.5"), event_count=0)


def test_an_event_exactly_at_start_replaces_the_carried_in_value(seats, event_factory):
    # given
    event_factory(START - timedelta(days=3), {"seats": 100}, code="seats")
    event_factory(START, {"seats": 3}, code="seats")
    event_factory(END, {"seats": 1000}, code="seats")
    # when
    usage = _usage(seats)
    # then
    assert usage == UsageResult(quantity=Decimal(3), event_count=1)


def test_equal_timestamps_keep_the_last_received_value(seats, event_factory):
    # given two values at the same instant: the one received later holds
    at = _day(10)
    event_factory(at, {"seats": 30}, code="seats", received_at=at + timedelta(seconds=5))
    event_factory(at, {"seats": 60}, code="seats", received_at=at + timedelta(seconds=1))
    # when
    usage = _usage(seats)
    # then 30 seats for 20 of 30 days
    assert usage == UsageResult(quantity=Decimal(20), event_count=2)


def test_a_fractional_share_keeps_twenty_decimal_places(seats, event_factory):
    # given 1 seat for the last third of the period
    event_factory(_day(20), {"seats": 1}, code="seats")
    # when
    usage = _usage(seats)
    # then
    assert str(usage.quantity) == "0.33333333333333333333"


def test_the_carried_in_value_honours_filters_and_subscription(metric_factory, event_factory):
    # given a filtered metric and a carried-in candidate that does not match
    metric = metric_factory(
        "storage",
        aggregation=Aggregation.WEIGHTED_SUM,
        field_name="gb",
        filters={"tier": ["hot"]},
    )
    event_factory(_day(-5), {"gb": 10, "tier": "hot"}, code="storage", subscription_id="s1")
    event_factory(_day(-2), {"gb": 99, "tier": "cold"}, code="storage", subscription_id="s1")
    event_factory(_day(-1), {"gb": 50, "tier": "hot"}, code="storage", subscription_id="s2")
    event_factory(_day(15), {"gb": 20, "tier": "hot"}, code="storage", subscription_id="s1")
    # when
    usage = _usage(metric, subscription_id="s1")
    # then (10*15 + 20*15) / 30
    assert usage == UsageResult(quantity=Decimal(15), event_count=1)


def test_all_customers_query_carries_values_in_per_customer(seats, event_factory):
    # given one customer with only a carried-in value, one with events only in the period
    event_factory(_day(-1), {"seats": 6}, code="seats", customer_id="acme")
    event_factory(_day(-3), {"seats": 2}, code="seats", customer_id="globex")
    event_factory(_day(-2), {"seats": 4}, code="seats", customer_id="globex")
    event_factory(_day(6), {"seats": 9}, code="seats", customer_id="globex")
    event_factory(_day(24), {"seats": 5}, code="seats", customer_id="initech")
    # when
    everyone = usage_by_customer_for_period(metric=seats, start=START, end=END)
    listed = usage_by_customer_for_period(
        metric=seats, start=START, end=END, customer_ids=["acme", "globex", "initech", "hooli"]
    )
    # then
    assert everyone == {
        "acme": UsageResult(quantity=Decimal(6), event_count=0),
        "globex": UsageResult(quantity=Decimal("8"), event_count=1),
        "initech": UsageResult(quantity=Decimal(1), event_count=1),
    }
    assert listed == {**everyone, "hooli": UsageResult(quantity=Decimal(0), event_count=0)}


def test_a_large_gauge_keeps_twenty_decimal_places(seats, event_factory):
    # given 12345 seats for days 20-25 of 30, then 1 seat
    event_factory(_day(20), {"seats": 12345}, code="seats")
    event_factory(_day(25), {"seats": 1}, code="seats")
    # when
    usage = _usage(seats)
    # then (12345 * 5 + 1 * 5) / 30
    assert str(usage.quantity) == "2057.66666666666666666667"
