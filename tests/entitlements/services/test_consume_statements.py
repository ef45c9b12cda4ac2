"""The consume's round trips: a fixed, small number of statements whatever the history, and
the counters it keeps current itself instead of through ingest's listener."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credits.models import CreditLedgerEntry
from entitlements.models import ConsumeRecord, UsageCounter
from entitlements.services import entitlement_consume
from metering.models import Event
from tests.entitlements.factories import grant, subscribe

D = Decimal
pytestmark = pytest.mark.django_db


def _consume(customer, transaction_id: str, quantity: str = "1"):
    return entitlement_consume(
        customer=customer, feature="api-calls", quantity=D(quantity), transaction_id=transaction_id
    )


def _statements(captured: CaptureQueriesContext) -> list[str]:
    """The statements sent, the test transaction's savepoint pair left out."""
    return [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]


def test_a_consume_is_four_statements_with_the_event_insert(django_assert_num_queries):
    # given: a customer whose window counter exists (its first consume built it)
    customer, _, _ = subscribe(limit=D(100))
    _consume(customer, "first")
    # when: the next consume, of 5 count events
    with (
        django_assert_num_queries(6),  # 4 and the savepoint pair of the test's transaction
        CaptureQueriesContext(connection) as captured,
    ):
        outcome = _consume(customer, "second", "5")
    # then: in force + lock, state under the lock, one insert of the 5 events, one write
    statements = _statements(captured)
    assert [s.split()[0] for s in statements] == ["SELECT", "SELECT", "WITH", "WITH"]
    assert "pg_advisory_xact_lock" in statements[0]
    assert "INSERT INTO metering_event" in statements[2]
    assert "entitlements_consumerecord" in statements[3]
    assert outcome.status == 200
    assert outcome.body["used"] == "6"
    assert Event.objects.filter(customer_id="acme").count() == 6
    assert UsageCounter.objects.get().quantity == D(6)
    assert ConsumeRecord.objects.get(transaction_id="second").response == outcome.body


def test_a_retry_is_answered_in_two_statements(django_assert_num_queries):
    # given: a recorded consume
    customer, _, _ = subscribe(limit=D(100))
    first = _consume(customer, "job-1", "3")
    # when: its retry
    with django_assert_num_queries(4):  # 2 and the savepoint pair
        retry = _consume(customer, "job-1", "3")
    # then: the first answer, nothing recorded twice
    assert retry.replayed is True
    assert (retry.status, retry.body) == (first.status, first.body)
    assert Event.objects.filter(customer_id="acme").count() == 3
    assert UsageCounter.objects.get().quantity == D(3)


def test_a_refusal_is_recorded_without_touching_events_or_counters():
    # given: 10 a period, 8 used
    customer, _, _ = subscribe(limit=D(10))
    _consume(customer, "a", "8")
    # when: 5 more
    refused = _consume(customer, "b", "5")
    # then: 402 with the numbers, stored for retries; usage unchanged
    assert refused.status == 402
    assert (refused.body["available"], refused.body["requested"]) == ("2", "5")
    assert ConsumeRecord.objects.get(transaction_id="b").status_code == 402
    assert UsageCounter.objects.get().quantity == D(8)
    assert Event.objects.filter(customer_id="acme").count() == 8


def test_a_consume_marks_the_other_windows_of_its_metric_stale_and_counts_its_own():
    # given: the current window's counter and another window's counter of the same metric
    customer, _, _ = subscribe(limit=D(100))
    _consume(customer, "first")
    current = UsageCounter.objects.get()
    other = UsageCounter.objects.create(
        customer=customer,
        metric_id=current.metric_id,
        window_start=current.window_start - timedelta(days=365),
        window_end=current.window_end + timedelta(days=365),
        quantity=D(1),
        stale=False,
        refreshed_at=timezone.now(),
    )
    # when
    _consume(customer, "second", "2")
    # then: its own counter counted the 2 (still fresh), the other must recount
    current.refresh_from_db()
    other.refresh_from_db()
    assert (current.quantity, current.stale) == (D(3), False)
    assert other.stale is True


def test_a_stale_mark_from_another_ingest_survives_the_consume():
    # given: a counter marked stale by events that arrived through POST /events
    customer, _, _ = subscribe(limit=D(100))
    _consume(customer, "first")
    UsageCounter.objects.update(stale=True)
    Event.objects.create(
        customer_id="acme",
        transaction_id="from-events-api",
        code="api-calls",
        timestamp=timezone.now(),
        received_at=timezone.now(),
        properties={},
        payload_hash="x",
    )
    # when: a consume (it recounts the stale counter under the lock before deciding)
    outcome = _consume(customer, "second")
    # then: every event counted once
    assert outcome.body["used"] == "3"
    assert UsageCounter.objects.get().quantity == D(3)


def test_units_beyond_the_limit_burn_credits_and_are_counted_as_credited():
    # given: 2 included, 10 credits
    customer, _, feature = subscribe(limit=D(2))
    grant(customer, feature, "10")
    # when: 5 are consumed
    outcome = _consume(customer, "a", "5")
    # then: 3 from credits, on the ledger and the counter
    assert outcome.body["credits_applied"] == "3"
    assert [e.amount for e in CreditLedgerEntry.objects.filter(kind="consume")] == [D(-3)]
    counter = UsageCounter.objects.get()
    assert (counter.quantity, counter.credited) == (D(5), D(3))


def test_the_check_statement_is_prepared_on_the_server_once_per_connection():
    # given: a subscribed customer
    from entitlements.selectors import entitlement_get

    customer, _, _ = subscribe(limit=D(100))
    # when: two checks on one connection
    entitlement_get(customer=customer, feature="api-calls")
    entitlement_get(customer=customer, feature="api-calls")
    # then: PostgreSQL holds the check's statement as a prepared statement (Django's default
    # would have planned it on every call)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("plans_customer" in statement for statement in prepared)
