"""Recurring unique_count: the state a period carries in comes from a monthly snapshot kept by the
rollup refresh (`UsageDistinctSnapshot`), equal to reading every earlier event."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metering.aggregation import UsageResult, usage_sql
from metering.models import (
    Aggregation,
    Event,
    UsageDistinctRollup,
    UsageDistinctSnapshot,
    UsageRollupState,
)
from metering.rollups import usage_rollups_refresh
from metering.selectors import usage_by_customer_for_period, usage_get

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


JAN, FEB, MAR, APR, MAY, JUN = (utc(2026, m, 1) for m in range(1, 7))


@pytest.fixture
def seats(metric_factory):
    return metric_factory(
        "seats", aggregation=Aggregation.UNIQUE_COUNT, field_name="user_id", recurring=True
    )


def _seat(event_factory, at, user, operation=None, customer_id="acme"):
    properties = {"user_id": user} | ({"operation_type": operation} if operation else {})
    event_factory(at, properties, code="seats", customer_id=customer_id)


def _refresh_at(now: datetime) -> None:
    with time_machine.travel(now, tick=False):
        usage_rollups_refresh()


def _usage(metric, start, end, customer_id="acme"):
    return usage_get(metric=metric, customer_id=customer_id, start=start, end=end)


def _snapshot(metric, month):
    rows = UsageDistinctSnapshot.objects.filter(metric=metric, month=month)
    return {(row.customer_id, row.value): row.last_op for row in rows}


def test_the_refresh_keeps_each_month_starts_latest_operation_per_value(seats, event_factory):
    # given u1 added in January and removed in February, u2 added in February, refreshed in April
    _seat(event_factory, utc(2026, 1, 5, 9), "u1")
    _seat(event_factory, utc(2026, 2, 10, 9), "u1", "remove")
    _seat(event_factory, utc(2026, 2, 11, 9), "u2")
    # when
    _refresh_at(utc(2026, 4, 20))
    # then every month start up to April holds the state just before it, removals included
    assert UsageRollupState.objects.get(metric=seats).snapshot_month == APR
    assert _snapshot(seats, JAN) == {}
    assert _snapshot(seats, FEB) == {("acme", "u1"): "add"}
    assert _snapshot(seats, MAR) == {("acme", "u1"): "remove", ("acme", "u2"): "add"}
    assert _snapshot(seats, APR) == _snapshot(seats, MAR)
    assert not UsageDistinctSnapshot.objects.filter(metric=seats, month=MAY).exists()


def test_the_carried_state_reads_no_daily_rows_before_the_periods_month(seats, event_factory):
    # given seats added and removed in January and February, refreshed in May
    _seat(event_factory, utc(2026, 1, 5, 9), "u1")
    _seat(event_factory, utc(2026, 1, 6, 9), "u2")
    _seat(event_factory, utc(2026, 2, 10, 9), "u1", "remove")
    _refresh_at(utc(2026, 5, 2))
    before = _usage(seats, APR, MAY)
    # when the daily rows before April are gone (the read must not need them)
    UsageDistinctRollup.objects.filter(metric=seats, bucket__lt=APR).delete()
    # then April still carries u2 in, from April's snapshot
    assert before == _usage(seats, APR, MAY) == UsageResult(quantity=Decimal(1), event_count=0)
    assert usage_by_customer_for_period(metric=seats, start=APR, end=MAY) == {
        "acme": UsageResult(quantity=Decimal(1), event_count=0)
    }


def test_a_late_event_before_a_snapshot_counts_before_and_after_the_next_refresh(
    seats, event_factory
):
    # given u1 and u2 added in January, snapshots built up to April
    _seat(event_factory, utc(2026, 1, 5, 9), "u1")
    _seat(event_factory, utc(2026, 1, 6, 9), "u2")
    _refresh_at(utc(2026, 4, 20))
    assert _usage(seats, APR, MAY).quantity == Decimal(2)
    # when u2's removal on February 3 arrives late (a higher id, an older timestamp)
    _seat(event_factory, utc(2026, 2, 3, 9), "u2", "remove")
    # then April counts only u1 while the event is above the watermark ...
    assert _usage(seats, APR, MAY) == UsageResult(quantity=Decimal(1), event_count=0)
    # ... and after the refresh folds it into the March and April snapshots
    _refresh_at(utc(2026, 4, 21))
    assert _snapshot(seats, MAR) == {("acme", "u1"): "add", ("acme", "u2"): "remove"}
    assert _snapshot(seats, FEB) == {("acme", "u1"): "add", ("acme", "u2"): "add"}
    assert _usage(seats, APR, MAY) == UsageResult(quantity=Decimal(1), event_count=0)
    assert _usage(seats, FEB, MAR) == UsageResult(quantity=Decimal(2), event_count=1)


def test_a_late_event_older_than_a_removal_does_not_bring_the_value_back(seats, event_factory):
    # given u1 added January 5 and removed March 2, snapshots built up to April
    _seat(event_factory, utc(2026, 1, 5, 9), "u1")
    _seat(event_factory, utc(2026, 3, 2, 9), "u1", "remove")
    _refresh_at(utc(2026, 4, 20))
    # when a duplicate "add" of u1 dated February 1 arrives late and is refreshed
    _seat(event_factory, utc(2026, 2, 1, 9), "u1", "add")
    _refresh_at(utc(2026, 4, 21))
    # then April's snapshot keeps the newer removal, March's the late add
    assert _snapshot(seats, APR) == {("acme", "u1"): "remove"}
    assert _snapshot(seats, MAR) == {("acme", "u1"): "add"}
    assert _usage(seats, APR, MAY) == UsageResult(quantity=Decimal(0), event_count=0)
    assert _usage(seats, MAR, APR) == UsageResult(quantity=Decimal(1), event_count=1)


def test_a_seat_removed_and_re_added_across_month_starts_rolls_forward(seats, event_factory):
    # given u1 added in January, refreshed in January (snapshots up to January)
    _seat(event_factory, utc(2026, 1, 5, 9), "u1")
    _refresh_at(utc(2026, 1, 20))
    # when it is removed on February 27 and re-added on April 2, refreshed in February and in June
    _seat(event_factory, utc(2026, 2, 27, 9), "u1", "remove")
    _refresh_at(utc(2026, 2, 28))
    _seat(event_factory, utc(2026, 4, 2, 9), "u1", "add")
    _refresh_at(utc(2026, 6, 3))
    # then the months rolled forward hold the removal until April, the re-add from May
    assert UsageRollupState.objects.get(metric=seats).snapshot_month == JUN
    assert [_snapshot(seats, m) for m in (FEB, MAR, APR, MAY, JUN)] == [
        {("acme", "u1"): "add"},
        {("acme", "u1"): "remove"},
        {("acme", "u1"): "remove"},
        {("acme", "u1"): "add"},
        {("acme", "u1"): "add"},
    ]
    # and February counts it (active until the 27th), March not, April and June again
    assert [_usage(seats, a, b).quantity for a, b in ((FEB, MAR), (MAR, APR), (APR, MAY))] == [
        Decimal(1),
        Decimal(0),
        Decimal(1),
    ]
    assert _usage(seats, JUN, utc(2026, 7, 1)).quantity == Decimal(1)


def test_a_rollup_built_before_its_snapshots_gets_them_from_its_daily_rows(seats, event_factory):
    # given a rollup with snapshots up to May, then its snapshots dropped (as before they existed)
    _seat(event_factory, utc(2026, 1, 5, 9), "u1")
    _seat(event_factory, utc(2026, 2, 6, 9), "u2")
    _seat(event_factory, utc(2026, 3, 7, 9), "u1", "remove")
    _refresh_at(utc(2026, 5, 2))
    built = {m: _snapshot(seats, m) for m in (FEB, MAR, APR, MAY)}
    UsageDistinctSnapshot.objects.filter(metric=seats).delete()
    UsageRollupState.objects.filter(metric=seats).update(snapshot_month=None)
    # when the refresh runs with no new events
    _refresh_at(utc(2026, 5, 3))
    # then it rebuilt the same snapshots from the daily rows
    assert {m: _snapshot(seats, m) for m in (FEB, MAR, APR, MAY)} == built
    assert built[APR] == {("acme", "u1"): "remove", ("acme", "u2"): "add"}


def test_a_changed_definition_drops_the_snapshots_with_the_rollup(seats, event_factory):
    # given snapshots built
    _seat(event_factory, utc(2026, 1, 5, 9), "u1")
    _refresh_at(utc(2026, 3, 2))
    # when the metric's filters change and the refresh rebuilds
    seats.filters = {"plan": ["pro"]}
    seats.save()
    _refresh_at(utc(2026, 3, 3))
    # then no snapshot row is left of the old definition
    assert not UsageDistinctSnapshot.objects.filter(metric=seats).exists()
    assert UsageRollupState.objects.get(metric=seats).snapshot_month == MAR


# ---------------------------------------------------------------------------------------------
# The snapshot read equals the event scan

_EVENT = st.tuples(
    st.sampled_from(["a", "b"]),  # customer
    st.sampled_from(["u1", "u2", "u3"]),  # value
    st.sampled_from([None, "add", "remove"]),  # operation_type
    st.integers(min_value=0, max_value=24 * 120 - 1),  # hour from January 1
    st.booleans(),  # arrives after the first refresh
)
_PERIODS = [
    (JAN, FEB),
    (FEB, MAR),
    (MAR, APR),
    (APR, MAY),
    (MAY, JUN),
    (utc(2026, 2, 15, 6), utc(2026, 3, 15, 6)),
    (utc(2026, 4, 1, 12), utc(2026, 4, 3)),
]


def _by_customer_from_events(metric, start, end) -> dict[str, UsageResult]:
    sql, params = usage_sql(metric, start=start, end=end)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return {c: UsageResult(quantity=q, event_count=n) for c, n, q in rows}


def _assert_equal_to_the_event_scan(metric) -> None:
    for start, end in _PERIODS:
        scanned = _by_customer_from_events(metric, start, end)
        assert usage_by_customer_for_period(metric=metric, start=start, end=end) == scanned
        for customer_id in ("a", "b"):
            expected = scanned.get(customer_id, UsageResult(quantity=Decimal(0), event_count=0))
            assert _usage(metric, start, end, customer_id) == expected


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(events=st.lists(_EVENT, max_size=14), first_refresh_day=st.integers(20, 70))
def test_the_snapshot_read_equals_the_event_scan_whatever_arrives_late(
    seats, events, first_refresh_day
):
    # given events over four months, some refreshed early (snapshots then rolled forward) and
    # some arriving late with any timestamp
    Event.objects.all().delete()
    UsageRollupState.objects.all().delete()
    UsageDistinctRollup.objects.all().delete()
    UsageDistinctSnapshot.objects.all().delete()

    def store(batch):
        Event.objects.bulk_create(
            Event(
                customer_id=customer,
                transaction_id=f"h-{i}-{late}",
                code="seats",
                timestamp=JAN + timedelta(hours=hour),
                received_at=JAN + timedelta(hours=hour),
                properties={"user_id": user} | ({"operation_type": op} if op else {}),
                payload_hash=f"{i:032x}",
            )
            for i, (customer, user, op, hour, late) in enumerate(batch)
        )

    store([e for e in events if not e[4]])
    _refresh_at(JAN + timedelta(days=first_refresh_day))
    store([e for e in events if e[4]])
    # when / then: with the late events above the watermark, and once folded in later
    _assert_equal_to_the_event_scan(seats)
    _refresh_at(utc(2026, 5, 15))
    _assert_equal_to_the_event_scan(seats)
