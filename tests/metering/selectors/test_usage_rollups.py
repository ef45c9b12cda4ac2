import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from metering.aggregation import (
    UsageResult,
    metric_definition_hash,
    rollup_usage_sql,
    usage_result,
    usage_sql,
)
from metering.models import Aggregation, Event, UsageRollup, UsageRollupState
from metering.rollups import usage_rollups_refresh
from metering.selectors import usage_by_customer_for_period, usage_get
from metering.tasks import metering_rollups_refresh_task

pytestmark = pytest.mark.django_db

CUSTOMERS = ("acme", "globex", "initech", "hooli", "umbrella")
MONTH_START = datetime(2026, 3, 1, tzinfo=UTC)
PERIODS = [
    ("aligned month", MONTH_START, datetime(2026, 4, 1, tzinfo=UTC)),
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
]


def _store_events(n: int, *, seed: int, code: str, tag: str) -> None:
    rng = random.Random(seed)
    events = []
    for i in range(n):
        at = MONTH_START + timedelta(seconds=rng.randrange(-3 * 86400, 34 * 86400))
        # exact midnights and edges are where off-by-one errors live
        if i % 17 == 0:
            at = at.replace(hour=0, minute=0, second=0, microsecond=0)
        properties: dict = {
            "n": rng.choice([1, 2, "0.1", "2.55", -1, "x", None, 1000000]),
            "tier": rng.choice(["premium", "basic", "free"]),
            "region": rng.choice(["eu", "us"]),
        }
        events.append(
            Event(
                customer_id=rng.choice(CUSTOMERS),
                transaction_id=f"{tag}-{i}",
                code=code,
                timestamp=at,
                received_at=at,
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


METRICS = [
    ("count", {"aggregation": Aggregation.COUNT}),
    ("count filtered", {"aggregation": Aggregation.COUNT, "filters": {"region": ["eu"]}}),
    ("sum", {"aggregation": Aggregation.SUM, "field_name": "n"}),
    (
        "weighted sum",
        {
            "aggregation": Aggregation.SUM,
            "field_name": "n",
            "weights": {"property": "tier", "values": {"premium": 2, "free": 0}},
            "filters": {"region": ["eu", "us"]},
        },
    ),
    ("max", {"aggregation": Aggregation.MAX, "field_name": "n"}),
    ("max rounded", {"aggregation": Aggregation.MAX, "field_name": "n", "rounding": "ceil"}),
]


@pytest.mark.parametrize(("_metric", "definition"), METRICS)
def test_rollups_give_exactly_the_raw_result_including_late_events(
    metric_factory, _metric, definition
):
    # given events rolled up, then late events (old timestamps, new ids) arriving after
    metric = metric_factory("calls", **definition)
    _store_events(600, seed=1, code="calls", tag="early")
    usage_rollups_refresh()
    _store_events(150, seed=2, code="calls", tag="late")
    assert UsageRollup.objects.filter(metric=metric).exists()
    for _period, start, end in PERIODS:
        # when
        from_rollups = usage_by_customer_for_period(metric=metric, start=start, end=end)
        one_by_one = {
            customer_id: usage_get(metric=metric, customer_id=customer_id, start=start, end=end)
            for customer_id in CUSTOMERS
        }
        # then
        raw = _raw_usage(metric, start, end)
        assert from_rollups == raw, _period
        assert one_by_one == {c: raw.get(c, usage_result(metric, None, 0)) for c in CUSTOMERS}
    # and again once the late events are rolled up too
    usage_rollups_refresh()
    for _period, start, end in PERIODS:
        assert usage_by_customer_for_period(metric=metric, start=start, end=end) == _raw_usage(
            metric, start, end
        ), _period


def test_rollups_for_listed_customers_equal_the_raw_result(metric_factory):
    # given
    metric = metric_factory("calls", aggregation=Aggregation.SUM, field_name="n")
    _store_events(400, seed=3, code="calls", tag="a")
    usage_rollups_refresh()
    _store_events(50, seed=4, code="calls", tag="b")
    listed = ["globex", "hooli", "nobody"]
    for _period, start, end in PERIODS:
        # when
        usage = usage_by_customer_for_period(
            metric=metric, start=start, end=end, customer_ids=listed
        )
        # then
        raw = _raw_usage(metric, start, end)
        assert usage == {
            customer_id: raw.get(customer_id, UsageResult(Decimal(0), 0)) for customer_id in listed
        }, _period


def test_the_billing_query_reads_whole_days_from_the_rollup(metric_factory, event_factory):
    # given an event folded into the rollup whose row is then removed from the event table
    metric = metric_factory()
    event = event_factory(datetime(2026, 3, 5, 12, tzinfo=UTC))
    event_factory(datetime(2026, 3, 1, 9, tzinfo=UTC))
    usage_rollups_refresh()
    Event.objects.filter(pk=event.pk).delete()
    start = datetime(2026, 3, 1, 6, tzinfo=UTC)
    end = datetime(2026, 4, 1, tzinfo=UTC)
    # when
    usage = usage_by_customer_for_period(metric=metric, start=start, end=end)
    # then the whole day came from the rollup, the partial first day from the events
    assert usage == {"acme": UsageResult(quantity=Decimal(2), event_count=2)}


def test_a_changed_definition_is_read_raw_until_the_rollup_is_rebuilt(
    metric_factory, event_factory
):
    # given a rolled-up sum whose filter is then narrowed
    metric = metric_factory("calls", aggregation=Aggregation.SUM, field_name="n")
    event_factory(datetime(2026, 3, 5, tzinfo=UTC), {"n": 1, "region": "eu"}, code="calls")
    event_factory(datetime(2026, 3, 6, tzinfo=UTC), {"n": 2, "region": "us"}, code="calls")
    usage_rollups_refresh()
    metric.filters = {"region": ["us"]}
    metric.save()
    start, end = MONTH_START, datetime(2026, 4, 1, tzinfo=UTC)
    expected = {"acme": UsageResult(quantity=Decimal(2), event_count=1)}
    # when / then
    assert usage_by_customer_for_period(metric=metric, start=start, end=end) == expected
    usage_rollups_refresh()
    assert UsageRollup.objects.get(metric=metric).value_sum == Decimal(2)
    assert usage_by_customer_for_period(metric=metric, start=start, end=end) == expected


def test_refresh_is_idempotent(metric_factory, event_factory):
    # given
    metric = metric_factory("calls", aggregation=Aggregation.SUM, field_name="n")
    event_factory(datetime(2026, 3, 5, 1, tzinfo=UTC), {"n": "1.5"}, code="calls")
    event_factory(datetime(2026, 3, 5, 2, tzinfo=UTC), {"n": 2}, code="calls")
    last = event_factory(datetime(2026, 3, 7, tzinfo=UTC), {"n": 4}, code="calls")
    # when
    first_watermark = usage_rollups_refresh()
    second_watermark = usage_rollups_refresh()
    # then
    assert first_watermark == second_watermark == last.pk
    rows = UsageRollup.objects.filter(metric=metric).order_by("bucket")
    assert [(row.bucket.day, row.event_count, row.value_sum, row.value_max) for row in rows] == [
        (5, 2, Decimal("3.5"), Decimal(2)),
        (7, 1, Decimal(4), Decimal(4)),
    ]
    assert UsageRollupState.objects.get(metric=metric).watermark == last.pk


def test_refresh_in_small_chunks_gives_the_same_rollup(metric_factory):
    # given
    metric = metric_factory("calls", aggregation=Aggregation.SUM, field_name="n")
    _store_events(300, seed=5, code="calls", tag="c")
    # when
    usage_rollups_refresh(chunk_size=7)
    chunked = set(UsageRollup.objects.values_list("customer_id", "bucket", "value_sum"))
    UsageRollupState.objects.all().delete()
    UsageRollup.objects.all().delete()
    usage_rollups_refresh()
    # then
    assert chunked == set(UsageRollup.objects.values_list("customer_id", "bucket", "value_sum"))
    assert UsageRollupState.objects.get(metric=metric).watermark == Event.objects.latest("pk").pk


def test_a_metric_no_longer_rolled_up_loses_its_rollup(metric_factory, event_factory):
    # given
    metric = metric_factory("calls", aggregation=Aggregation.SUM, field_name="n")
    event_factory(datetime(2026, 3, 5, tzinfo=UTC), {"n": 1}, code="calls")
    usage_rollups_refresh()
    # when
    metric.aggregation = Aggregation.LAST
    metric.save()
    usage_rollups_refresh()
    # then
    assert not UsageRollup.objects.exists()
    assert not UsageRollupState.objects.exists()


def test_the_refresh_task_folds_new_events_in(metric_factory, event_factory):
    # given
    metric = metric_factory()
    event = event_factory(datetime(2026, 3, 5, tzinfo=UTC))
    # when
    metering_rollups_refresh_task.apply()
    # then
    assert UsageRollupState.objects.get(metric=metric).watermark == event.pk
    assert UsageRollup.objects.get(metric=metric).event_count == 1


def test_a_reader_whose_watermark_went_stale_is_told_so(metric_factory, event_factory):
    # given a rollup refreshed past the watermark a reader planned with
    metric = metric_factory()
    event_factory(datetime(2026, 3, 5, tzinfo=UTC))
    watermark = usage_rollups_refresh()
    sql, params = rollup_usage_sql(
        metric,
        metric_id=metric.pk,
        definition_hash=metric_definition_hash(metric),
        watermark=watermark - 1,
        start=MONTH_START,
        end=datetime(2026, 4, 1, tzinfo=UTC),
    )
    # when
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # then
    assert (None, 0, None) in rows


@pytest.mark.parametrize(("aggregation", "queries"), [(Aggregation.SUM, 2), (Aggregation.LAST, 1)])
def test_usage_get_reads_a_current_rollup_in_two_queries(
    metric_factory, event_factory, django_assert_num_queries, aggregation, queries
):
    # given
    metric = metric_factory("calls", aggregation=aggregation, field_name="n")
    event_factory(datetime(2026, 3, 5, tzinfo=UTC), {"n": 3}, code="calls")
    usage_rollups_refresh()
    event_factory(datetime(2026, 3, 6, tzinfo=UTC), {"n": 4}, code="calls")
    # when
    with django_assert_num_queries(queries):
        usage = usage_get(
            metric=metric,
            customer_id="acme",
            start=MONTH_START,
            end=datetime(2026, 4, 1, tzinfo=UTC),
        )
    # then
    expected = Decimal(7) if aggregation == Aggregation.SUM else Decimal(4)
    assert usage == UsageResult(quantity=expected, event_count=2)
