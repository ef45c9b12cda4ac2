"""Recurring metrics (Lago's `recurring: true`): the value carries across billing periods."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from metering.aggregation import UsageResult
from metering.models import Aggregation
from metering.rollups import usage_rollups_refresh
from metering.selectors import (
    UnitProration,
    usage_by_customer_for_period,
    usage_get,
    usage_prorated_get,
)

pytestmark = pytest.mark.django_db

MARCH = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
APRIL = (datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
MAY = (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC))


def _at(month: tuple[datetime, datetime], day: int, hour: int = 12) -> datetime:
    return month[0] + timedelta(days=day - 1, hours=hour)


@pytest.fixture
def seats(metric_factory):
    return metric_factory(
        "seats", aggregation=Aggregation.UNIQUE_COUNT, field_name="user_id", recurring=True
    )


def _seat(event_factory, at, user, operation=None):
    properties = {"user_id": user} | ({"operation_type": operation} if operation else {})
    event_factory(at, properties, code="seats")


def _usage(metric, period, customer_id="acme"):
    return usage_get(metric=metric, customer_id=customer_id, start=period[0], end=period[1])


@pytest.mark.parametrize("refreshed", [False, True])
def test_a_seat_added_in_march_and_removed_in_april_counts_in_both_but_not_may(
    seats, event_factory, refreshed
):
    # given u1 added March 3 and removed April 10; u2 added March 20 and kept
    _seat(event_factory, _at(MARCH, 3), "u1")
    _seat(event_factory, _at(MARCH, 20), "u2", "add")
    _seat(event_factory, _at(APRIL, 10), "u1", "remove")
    if refreshed:
        usage_rollups_refresh()  # the carried state then comes from the daily rollup
    # when / then: March has both, April both (u1 was active until the 10th), May only u2
    assert _usage(seats, MARCH) == UsageResult(quantity=Decimal(2), event_count=2)
    assert _usage(seats, APRIL) == UsageResult(quantity=Decimal(2), event_count=1)
    assert _usage(seats, MAY) == UsageResult(quantity=Decimal(1), event_count=0)


@pytest.mark.parametrize("refreshed", [False, True])
def test_removing_a_seat_never_added_changes_nothing_and_re_adding_counts_again(
    seats, event_factory, refreshed
):
    # given u9 removed without ever being added; u1 added in March, removed in March, re-added
    # in May
    _seat(event_factory, _at(MARCH, 2), "u9", "remove")
    _seat(event_factory, _at(MARCH, 3), "u1")
    _seat(event_factory, _at(MARCH, 4), "u1", "remove")
    _seat(event_factory, _at(MAY, 5), "u1", "add")
    if refreshed:
        usage_rollups_refresh()
    # when / then
    assert _usage(seats, MARCH).quantity == Decimal(1)
    assert _usage(seats, APRIL).quantity == Decimal(0)
    assert _usage(seats, MAY).quantity == Decimal(1)


@pytest.mark.parametrize("refreshed", [False, True])
def test_the_billing_run_read_counts_active_seats_of_every_customer(
    seats, event_factory, refreshed
):
    # given acme's u1 kept from March, beta's b1 removed in March
    _seat(event_factory, _at(MARCH, 3), "u1")
    event_factory(_at(MARCH, 3), {"user_id": "b1"}, code="seats", customer_id="beta")
    event_factory(
        _at(MARCH, 9),
        {"user_id": "b1", "operation_type": "remove"},
        code="seats",
        customer_id="beta",
    )
    if refreshed:
        usage_rollups_refresh()
    # when
    usage = usage_by_customer_for_period(metric=seats, start=APRIL[0], end=APRIL[1])
    # then
    assert usage == {
        "acme": UsageResult(quantity=Decimal(1), event_count=0),
        "beta": UsageResult(quantity=Decimal(0), event_count=0),
    }


@pytest.mark.parametrize("refreshed", [False, True])
def test_a_recurring_sum_totals_everything_since_the_start(
    metric_factory, event_factory, refreshed
):
    # given storage added in March (+50, +30) and April (+20, -10)
    storage = metric_factory(
        "storage", aggregation=Aggregation.SUM, field_name="gb", recurring=True
    )
    for at, gb in (
        (_at(MARCH, 2), 50),
        (_at(MARCH, 31), 30),
        (_at(APRIL, 1, 0), 20),
        (_at(APRIL, 30, 23), -10),
    ):
        event_factory(at, {"gb": gb}, code="storage")
    if refreshed:
        usage_rollups_refresh()  # the carried total then comes from the daily rollup
    # when / then: no lower bound, so each period carries the earlier periods' total
    assert _usage(storage, MARCH).quantity == Decimal(80)
    assert _usage(storage, APRIL).quantity == Decimal(90)
    assert _usage(storage, MAY).quantity == Decimal(90)


def test_a_recurring_count_counts_every_event_before_the_period_end(metric_factory, event_factory):
    # given
    projects = metric_factory("projects", aggregation=Aggregation.COUNT, recurring=True)
    event_factory(_at(MARCH, 5), code="projects")
    event_factory(_at(APRIL, 5), code="projects")
    # when / then
    assert _usage(projects, MARCH).quantity == Decimal(1)
    assert _usage(projects, MAY).quantity == Decimal(2)


def test_a_prorated_seat_added_on_day_10_of_a_30_day_month_is_21_thirtieths(seats, event_factory):
    # given April has 30 days; u1 joins on April 10 (days 10..30: 21 days); u2 was there from
    # March and leaves on April 11 (days 1..10: 10 days; the day of removal is not counted)
    _seat(event_factory, _at(APRIL, 10), "u1")
    _seat(event_factory, _at(MARCH, 15), "u2")
    _seat(event_factory, _at(APRIL, 11), "u2", "remove")
    # when
    (usage,) = usage_prorated_get(metric=seats, customer_id="acme", start=APRIL[0], end=APRIL[1])
    # then 21/30 + 10/30 = 31/30 units
    assert usage.prorations == (
        UnitProration("u1", Decimal(1), 21, 30),
        UnitProration("u2", Decimal(1), 10, 30),
    )
    assert usage.quantity == Decimal("1.03333333333333333333")
    assert usage.event_count == 2


def test_a_prorated_sum_counts_each_addition_from_its_day_to_the_period_end(
    metric_factory, event_factory
):
    # given 30 GB from March; +10 GB on April 11 (20 of 30 days), -10 GB on April 21 (10 days)
    storage = metric_factory(
        "storage", aggregation=Aggregation.SUM, field_name="gb", recurring=True
    )
    event_factory(_at(MARCH, 3), {"gb": 30}, code="storage")
    event_factory(_at(APRIL, 11), {"gb": 10}, code="storage")
    event_factory(_at(APRIL, 21), {"gb": -10}, code="storage")
    # when
    (usage,) = usage_prorated_get(metric=storage, customer_id="acme", start=APRIL[0], end=APRIL[1])
    # then 30 + 10*20/30 - 10*10/30 = 30 + 100/30
    assert usage.quantity == Decimal("33.33333333333333333333")
    assert [(p.unit, p.quantity, p.days) for p in usage.prorations] == [
        ("carried in", Decimal(30), 30),
        ("day 11", Decimal(10), 20),
        ("day 21", Decimal(-10), 10),
    ]


def test_the_rollup_read_orders_late_events_and_mid_day_starts_like_the_events(
    seats, event_factory
):
    # given seats rolled up, then late events (above the watermark) that land before and inside
    # a period starting at noon on April 10: u1's removal on the morning of April 10 arrives
    # late, u2's removal at 09:00 is rolled up but its re-add at 10:00 arrives late, u3 is
    # added at 13:00 (inside) and removed the same afternoon
    _seat(event_factory, _at(MARCH, 3), "u1")
    _seat(event_factory, _at(MARCH, 4), "u2")
    _seat(event_factory, _at(APRIL, 10, 9), "u2", "remove")
    usage_rollups_refresh()
    _seat(event_factory, _at(APRIL, 10, 8), "u1", "remove")
    _seat(event_factory, _at(APRIL, 10, 10), "u2", "add")
    _seat(event_factory, _at(APRIL, 10, 13), "u3", "add")
    _seat(event_factory, _at(APRIL, 10, 15), "u3", "remove")
    noon = _at(APRIL, 10, 12)
    raw = _usage(seats, (noon, MAY[1]))
    # when the rollup catches up on part of them, and again on all
    usage_rollups_refresh()
    refreshed = _usage(seats, (noon, MAY[1]))
    # then u2 (re-added before noon) and u3 (added inside) count, u1 (removed before) does not
    assert raw == refreshed == UsageResult(quantity=Decimal(2), event_count=2)
