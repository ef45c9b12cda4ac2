"""Concurrent ingest through real, separate connections (one per thread)."""

import random
import threading
import time

import pytest
from django.db import connection, connections, transaction

from metering.models import Event
from metering.services import Outcome, usage_events_ingest

pytestmark = pytest.mark.django_db(transaction=True)


def _in_thread(target, results, name):
    def run():
        try:
            results[name] = target()
        except Exception as exc:  # reported by the test's assertions
            results[name] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_for_a_lock_wait(timeout=10.0):
    """Until some other session of this database waits on a lock (the second insert)."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("the second request never waited for the first")


@pytest.mark.parametrize(
    ("_case", "second_tokens", "second_status"),
    [
        ("same payload", 5, Outcome.DUPLICATE),
        ("different payload", 6, Outcome.CONFLICT),
    ],
)
def test_the_same_event_in_two_concurrent_requests_is_stored_once(
    make_metric, event_payload, received_at, _case, second_tokens, second_status
):
    # given: the first request has inserted the event and not yet committed
    make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    event = event_payload(code="llm_tokens", transaction_id="t1", properties={"tokens": 5})
    inserted, release = threading.Event(), threading.Event()
    results = {}

    def first():
        with transaction.atomic():
            result = usage_events_ingest(events=[event], received_at=received_at)
            inserted.set()
            release.wait(10)
        return result

    def second():
        inserted.wait(10)
        again = {**event, "properties": {"tokens": second_tokens}}
        return usage_events_ingest(events=[again], received_at=received_at)

    threads = [_in_thread(first, results, "first"), _in_thread(second, results, "second")]
    # when: the second request blocks on the key, then the first commits
    inserted.wait(10)
    _wait_for_a_lock_wait()
    release.set()
    for thread in threads:
        thread.join(20)
    # then
    assert not isinstance(results["second"], Exception), results["second"]
    assert [o.status for o in results["first"].outcomes] == [Outcome.ACCEPTED]
    assert [o.status for o in results["second"].outcomes] == [second_status]
    assert list(Event.objects.values_list("properties", flat=True)) == [{"tokens": 5}]


@pytest.fixture
def slow_event_inserts(db):
    """Each event row takes a millisecond to insert, so that two batches surely overlap."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN PERFORM pg_sleep(0.001); RETURN NEW; END $$;"
            "CREATE TRIGGER test_slow_insert BEFORE INSERT ON metering_event"
            " FOR EACH ROW EXECUTE FUNCTION test_slow_insert();"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER test_slow_insert ON metering_event; DROP FUNCTION test_slow_insert();"
        )


def test_concurrent_batches_sharing_events_in_any_order_count_each_once(
    make_metric, event_payload, received_at, slow_event_inserts
):
    # given: two requests with the same 200 events, in different orders, started together
    make_metric()
    events = [event_payload(customer_id=f"c{n % 7}", transaction_id=f"t{n}") for n in range(200)]
    shuffled = random.Random(7).sample(events, len(events))
    start = threading.Barrier(2)
    results = {}

    def send(batch):
        def run():
            start.wait(10)
            return usage_events_ingest(events=batch, received_at=received_at)

        return run

    # when
    threads = [
        _in_thread(send(events), results, "a"),
        _in_thread(send(shuffled[::-1]), results, "b"),
    ]
    for thread in threads:
        thread.join(30)
    # then: no deadlock, and every event accepted by exactly one of them
    a, b = results["a"], results["b"]
    assert not isinstance(a, Exception), a
    assert not isinstance(b, Exception), b
    assert (a.accepted + b.accepted, a.duplicates + b.duplicates) == (200, 200)
    assert (a.conflicts, b.conflicts, a.rejected, b.rejected) == (0, 0, 0, 0)
    assert Event.objects.count() == 200
