"""The unique_count (distinct values per day) and weighted_sum (a gauge's day) rollups give
exactly the raw query's result: late events, unaligned periods, values carried across days."""

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from metering.aggregation import UsageResult, usage_result, usage_sql
from metering.models import (
    Aggregation,
    Event,
    UsageDistinctRollup,
    UsageGaugeRollup,
    UsageRollupState,
)
from metering.rollups import usage_rollups_refresh
from metering.selectors import usage_by_customer_for_period, usage_get

pytestmark = pytest.mark.django_db

CUSTOMERS = ("acme", "globex", "initech", "hooli", "umbrella")
MONTH_START = datetime(2026, 3, 1, tzinfo=UTC)
MONTH_END = datetime(2026, 4, 1, tzinfo=UTC)
PERIODS = [
    ("aligned month", MONTH_START, MONTH_END),
    (
        "unaligned anniversary",
        datetime(2026, 3, 3, 17, 45, 12, 345678, tzinfo=UTC),
        datetime(2026, 3, 28, 6, 1, tzinfo=UTC),
    ),
    ("within one day", datetime(2026, 3, 9, 1, tzinfo=UTC), datetime(2026, 3, 9, 23, tzinfo=UTC)),
    (
        "across one midnight",
        datetime(2026, 3, 9, 20, tzinfo=UTC),
        datetime(2026, 3, 10, 3, tzinfo=UTC),
    ),
    ("one whole day", datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 10, tzinfo=UTC)),
    ("starts at midnight", datetime(2026, 3, 9, tzinfo=UTC), datetime(2026, 3, 20, 12, tzinfo=UTC)),
    ("after every event", datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC)),
]
METRICS = [
    ("unique count", {"aggregation": Aggregation.UNIQUE_COUNT, "field_name": "n"}),
    (
        "unique count filtered",
        {"aggregation": Aggregation.UNIQUE_COUNT, "field_name": "n", "filters": {"region": ["eu"]}},
    ),
    ("weighted sum", {"aggregation": Aggregation.WEIGHTED_SUM, "field_name": "n"}),
    (
        "weighted sum filtered, rounded",
        {
            "aggregation": Aggregation.WEIGHTED_SUM,
            "field_name": "n",
            "filters": {"region": ["us"]},
            "rounding": "round",
            "rounding_precision": 3,
        },
    ),
]


def _store_events(n: int, *, seed: int, tag: str, days: tuple[int, int] = (-40, 34)) -> None:
    """Sparse gauges (a few events a day at most, whole empty days between) with exact
    midnights, equal timestamps and values that do not count."""
    rng = random.Random(seed)
    events = []
    for i in range(n):
        at = MONTH_START + timedelta(seconds=rng.randrange(days[0] * 86400, days[1] * 86400))
        if i % 7 == 0:
            at = at.replace(hour=0, minute=0, second=0, microsecond=0)
        elif i % 11 == 0 and events:
            at = events[-1].timestamp
        properties: dict = {
            "n": rng.choice([1, 2, "0.1", "2.55", -1, "x", None, 1000000, "7.000001"]),
            "region": rng.choice(["eu", "us"]),
        }
        events.append(
            Event(
                customer_id=rng.choice(CUSTOMERS),
                transaction_id=f"{tag}-{i}",
                code="gauge",
                timestamp=at,
                received_at=at + timedelta(seconds=rng.choice([0, 1, 5])),
                properties=properties,
                payload_hash=f"{i:032x}",
            )
        )
    Event.objects.bulk_create(events)


def _raw_usage(metric, start, end):
    """Straight from the events, whatever rollups exist."""
    sql, params = usage_sql(metric, start=start, end=end)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            customer_id: usage_result(metric, quantity, event_count)
            for customer_id, event_count, quantity in cursor.fetchall()
        }


def _assert_equal_to_raw(metric) -> None:
    for _period, start, end in PERIODS:
        raw = _raw_usage(metric, start, end)
        assert usage_by_customer_for_period(metric=metric, start=start, end=end) == raw, _period
        listed = usage_by_customer_for_period(
            metric=metric, start=start, end=end, customer_ids=[*CUSTOMERS, "nobody"]
        )
        zero = usage_result(metric, None, 0)
        assert listed == {c: raw.get(c, zero) for c in (*CUSTOMERS, "nobody")}, _period
        for customer_id in CUSTOMERS:
            one = usage_get(metric=metric, customer_id=customer_id, start=start, end=end)
            assert one == raw.get(customer_id, zero), (_period, customer_id)


@pytest.mark.parametrize(("_metric", "definition"), METRICS)
def test_rollups_give_exactly_the_raw_result_including_late_events(
    metric_factory, _metric, definition
):
    # given events rolled up, then late events (some long before the period) arriving after
    metric = metric_factory("gauge", **definition)
    _store_events(300, seed=1, tag="early")
    usage_rollups_refresh()
    _store_events(60, seed=2, tag="late")
    assert UsageRollupState.objects.get(metric=metric).watermark > 0
    # when / then, the late events read raw
    _assert_equal_to_raw(metric)
    # and again once the late events are folded into their days
    usage_rollups_refresh()
    _assert_equal_to_raw(metric)


@pytest.mark.parametrize(("_metric", "definition"), METRICS)
def test_refresh_in_small_chunks_gives_the_same_rollup(metric_factory, _metric, definition):
    # given
    metric = metric_factory("gauge", **definition)
    _store_events(200, seed=5, tag="c")
    model = (
        UsageGaugeRollup if metric.aggregation == Aggregation.WEIGHTED_SUM else UsageDistinctRollup
    )
    # when
    usage_rollups_refresh(chunk_size=7)
    chunked = set(model.objects.values_list())
    UsageRollupState.objects.all().delete()
    model.objects.all().delete()
    usage_rollups_refresh()
    # then
    assert chunked == set(model.objects.values_list())
    _assert_equal_to_raw(metric)


def test_a_gauge_value_is_carried_across_empty_days_and_into_the_period(
    metric_factory, event_factory
):
    # given 3 seats from Feb 20 (rolled up), 5 from Mar 10 12:00, 2 from midnight Mar 20
    metric = metric_factory("seats", aggregation=Aggregation.WEIGHTED_SUM, field_name="seats")
    event_factory(datetime(2026, 2, 20, 8, tzinfo=UTC), {"seats": 3}, code="seats")
    event_factory(datetime(2026, 3, 10, 12, tzinfo=UTC), {"seats": 5}, code="seats")
    event_factory(datetime(2026, 3, 20, tzinfo=UTC), {"seats": 2}, code="seats")
    usage_rollups_refresh()
    # when
    usage = usage_get(metric=metric, customer_id="acme", start=MONTH_START, end=MONTH_END)
    # then (3 * 9.5 days + 5 * 9.5 days + 2 * 12 days) / 31 days, from the rollup alone
    assert usage == UsageResult(quantity=Decimal("3.22580645161290322581"), event_count=2)
    assert UsageGaugeRollup.objects.filter(metric=metric).count() == 3
    Event.objects.filter(code="seats").delete()
    assert usage_get(metric=metric, customer_id="acme", start=MONTH_START, end=MONTH_END) == usage


def test_a_late_gauge_event_before_the_period_changes_the_carried_in_value(
    metric_factory, event_factory
):
    # given 3 seats from Feb 20 rolled up, then a late event setting 6 on Feb 25
    metric = metric_factory("seats", aggregation=Aggregation.WEIGHTED_SUM, field_name="seats")
    event_factory(datetime(2026, 2, 20, 8, tzinfo=UTC), {"seats": 3}, code="seats")
    event_factory(datetime(2026, 3, 16, 12, tzinfo=UTC), {"seats": 1}, code="seats")
    usage_rollups_refresh()
    event_factory(datetime(2026, 2, 25, tzinfo=UTC), {"seats": 6}, code="seats")
    expected = UsageResult(quantity=Decimal("3.5"), event_count=1)  # (6 * 15.5 + 1 * 15.5) / 31
    # when / then, read raw for this customer, then from the refreshed rollup
    assert usage_get(metric=metric, customer_id="acme", start=MONTH_START, end=MONTH_END) == (
        expected
    )
    assert usage_by_customer_for_period(metric=metric, start=MONTH_START, end=MONTH_END) == {
        "acme": expected
    }
    usage_rollups_refresh()
    assert usage_by_customer_for_period(metric=metric, start=MONTH_START, end=MONTH_END) == {
        "acme": expected
    }


def test_a_late_event_inside_a_day_recomputes_that_day(metric_factory, event_factory):
    # given a day with 4 seats at 06:00 rolled up, then a late 8 at 12:00 the same day
    metric = metric_factory("seats", aggregation=Aggregation.WEIGHTED_SUM, field_name="seats")
    event_factory(datetime(2026, 3, 5, 6, tzinfo=UTC), {"seats": 4}, code="seats")
    usage_rollups_refresh()
    event_factory(datetime(2026, 3, 5, 12, tzinfo=UTC), {"seats": 8}, code="seats")
    # when
    usage_rollups_refresh()
    # then the day holds 4 for 6 hours and 8 for 12
    day = UsageGaugeRollup.objects.get(metric=metric)
    assert (day.event_count, day.area, day.last_value) == (2, Decimal(4 * 21600 + 8 * 43200), 8)
    assert day.first_at == datetime(2026, 3, 5, 6, tzinfo=UTC)
    start, end = datetime(2026, 3, 5, tzinfo=UTC), datetime(2026, 3, 7, tzinfo=UTC)
    # (4 * 6 h + 8 * 36 h) / 48 h
    assert usage_get(metric=metric, customer_id="acme", start=start, end=end) == UsageResult(
        quantity=Decimal("6.5"), event_count=2
    )


def test_unique_values_are_counted_once_across_days_and_edges(metric_factory, event_factory):
    # given the same user on several days, in the partial first day and after the refresh
    metric = metric_factory("users", aggregation=Aggregation.UNIQUE_COUNT, field_name="user")
    for day, user in ((1, "u1"), (2, "u1"), (2, "u2"), (3, "u2"), (3, "u3")):
        event_factory(datetime(2026, 3, day, 18, tzinfo=UTC), {"user": user}, code="users")
    usage_rollups_refresh()
    event_factory(datetime(2026, 3, 4, tzinfo=UTC), {"user": "u1"}, code="users")
    event_factory(datetime(2026, 3, 4, 1, tzinfo=UTC), {"user": "u4"}, code="users")
    start, end = datetime(2026, 3, 1, 12, tzinfo=UTC), datetime(2026, 3, 4, 0, 30, tzinfo=UTC)
    # when
    usage = usage_get(metric=metric, customer_id="acme", start=start, end=end)
    # then
    assert usage == UsageResult(quantity=Decimal(3), event_count=6)
    assert UsageDistinctRollup.objects.filter(metric=metric).count() == 5


def test_a_remembered_watermark_that_went_stale_is_read_again(
    metric_factory, event_factory, django_assert_num_queries
):
    # given a read that remembered the watermark, then a refresh that moved it
    metric = metric_factory("users", aggregation=Aggregation.UNIQUE_COUNT, field_name="user")
    event_factory(datetime(2026, 3, 2, tzinfo=UTC), {"user": "u1"}, code="users")
    usage_rollups_refresh()
    with django_assert_num_queries(2):
        usage_get(metric=metric, customer_id="acme", start=MONTH_START, end=MONTH_END)
    event_factory(datetime(2026, 3, 3, tzinfo=UTC), {"user": "u2"}, code="users")
    usage_rollups_refresh()
    # when / then: the stale statement, the watermark, the rollup statement
    with django_assert_num_queries(3):
        usage = usage_get(metric=metric, customer_id="acme", start=MONTH_START, end=MONTH_END)
    assert usage == UsageResult(quantity=Decimal(2), event_count=2)
    # and then one query per read
    with django_assert_num_queries(1):
        again = usage_get(metric=metric, customer_id="acme", start=MONTH_START, end=MONTH_END)
    assert again == usage


def test_late_gauge_customers_are_read_from_the_events_in_one_more_query(
    metric_factory, event_factory, django_assert_num_queries
):
    # given one customer rolled up and one with an event after the refresh
    metric = metric_factory("seats", aggregation=Aggregation.WEIGHTED_SUM, field_name="seats")
    event_factory(datetime(2026, 3, 1, tzinfo=UTC), {"seats": 2}, code="seats")
    event_factory(
        datetime(2026, 3, 1, tzinfo=UTC), {"seats": 4}, code="seats", customer_id="globex"
    )
    usage_rollups_refresh()
    event_factory(
        datetime(2026, 3, 16, 12, tzinfo=UTC), {"seats": 8}, code="seats", customer_id="globex"
    )
    usage_by_customer_for_period(metric=metric, start=MONTH_START, end=MONTH_END)
    # when (in a savepoint: three settings and the rollup statement; then the late customer's
    # events)
    with django_assert_num_queries(7):
        usage = usage_by_customer_for_period(metric=metric, start=MONTH_START, end=MONTH_END)
    # then
    assert usage == {
        "acme": UsageResult(quantity=Decimal(2), event_count=1),
        "globex": UsageResult(quantity=Decimal(6), event_count=2),
    }
