"""Ingest keeps the per-minute event counts that the dashboard charts, in the same statement."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Sum

from metering.models import EventActivityCount
from metering.services import usage_events_ingest
from metering.services.activity import event_activity_prune

pytestmark = pytest.mark.django_db


def minute_totals() -> dict[datetime, int]:
    rows = EventActivityCount.objects.values("minute").annotate(n=Sum("event_count"))
    return {row["minute"]: row["n"] for row in rows}


@pytest.fixture
def calls(make_metric):
    return make_metric("api_calls", aggregation="count")


def test_stored_events_are_counted_in_the_minute_they_were_received(calls, event_payload):
    # given
    first = datetime(2026, 5, 1, 12, 30, 5, tzinfo=UTC)
    second = datetime(2026, 5, 1, 12, 30, 59, tzinfo=UTC)
    third = datetime(2026, 5, 1, 12, 31, 0, tzinfo=UTC)
    # when
    usage_events_ingest(
        events=[event_payload(code="api_calls", transaction_id=f"a{n}") for n in range(3)],
        received_at=first,
    )
    usage_events_ingest(
        events=[event_payload(code="api_calls", transaction_id=f"b{n}") for n in range(2)],
        received_at=second,
    )
    usage_events_ingest(
        events=[event_payload(code="api_calls", transaction_id="c0")], received_at=third
    )
    # then
    assert minute_totals() == {
        datetime(2026, 5, 1, 12, 30, tzinfo=UTC): 5,
        datetime(2026, 5, 1, 12, 31, tzinfo=UTC): 1,
    }


def test_duplicates_and_rejected_events_are_not_counted(calls, event_payload, received_at):
    # given
    batch = [event_payload(code="api_calls", transaction_id=f"t{n}") for n in range(4)]
    usage_events_ingest(events=batch, received_at=received_at)
    # when: the same batch again, plus an event of an unknown metric
    usage_events_ingest(
        events=[*batch, event_payload(code="no_such_metric", transaction_id="x")],
        received_at=received_at,
    )
    # then
    assert minute_totals() == {received_at.replace(second=0): 4}


def test_a_batch_of_only_duplicates_writes_no_count_row(calls, event_payload, received_at):
    # given
    batch = [event_payload(code="api_calls", transaction_id="t1")]
    usage_events_ingest(events=batch, received_at=received_at)
    EventActivityCount.objects.all().delete()
    # when
    usage_events_ingest(events=batch, received_at=received_at)
    # then
    assert EventActivityCount.objects.count() == 0


def test_pruning_deletes_only_minutes_older_than_two_days():
    # given
    now = datetime(2026, 5, 3, 12, 0, tzinfo=UTC)
    kept = now - timedelta(days=2)
    EventActivityCount.objects.create(minute=kept - timedelta(minutes=1), shard=0, event_count=7)
    EventActivityCount.objects.create(minute=kept, shard=3, event_count=9)
    # when
    deleted = event_activity_prune(now=now)
    # then
    assert deleted == 1
    assert minute_totals() == {kept: 9}
