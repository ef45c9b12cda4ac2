import pytest
from django.db import connection, transaction

from metering.models import Event, IngestRejection, UnknownCustomer
from metering.services import Outcome, usage_events_ingest

pytestmark = pytest.mark.django_db


def statuses(result):
    return [outcome.status for outcome in result.outcomes]


@pytest.fixture
def tokens(make_metric):
    return make_metric("llm_tokens", aggregation="sum", field_name="tokens")


def test_sending_the_same_batch_twice_stores_every_event_once(tokens, event_payload, received_at):
    # given
    batch = [
        event_payload(code="llm_tokens", properties={"tokens": n}, transaction_id=f"t{n}")
        for n in range(1, 6)
    ]
    first = usage_events_ingest(events=batch, received_at=received_at)
    # when
    second = usage_events_ingest(events=batch, received_at=received_at)
    # then
    assert statuses(first) == [Outcome.ACCEPTED] * 5
    assert statuses(second) == [Outcome.DUPLICATE] * 5
    assert (second.accepted, second.duplicates, second.conflicts) == (0, 5, 0)
    assert Event.objects.count() == 5


def test_a_resend_with_another_payload_is_a_conflict_and_the_original_is_kept(
    tokens, event_payload, received_at
):
    # given
    original = event_payload(code="llm_tokens", transaction_id="t1", properties={"tokens": 10})
    usage_events_ingest(events=[original], received_at=received_at)
    changed = {**original, "properties": {"tokens": 99}}
    # when
    result = usage_events_ingest(events=[changed], received_at=received_at)
    # then
    assert statuses(result) == [Outcome.CONFLICT]
    assert list(Event.objects.values_list("properties", flat=True)) == [{"tokens": 10}]


def test_the_same_instant_in_another_notation_is_a_duplicate(tokens, event_payload, received_at):
    # given: 2026-05-01T12:00:00.250Z, as ISO with an offset and as Unix seconds
    iso = event_payload(
        code="llm_tokens",
        transaction_id="t1",
        timestamp="2026-05-01T14:00:00.250+02:00",
        properties={"tokens": 1},
    )
    usage_events_ingest(events=[iso], received_at=received_at)
    unix = {**iso, "timestamp": 1777636800.25}
    # when
    result = usage_events_ingest(events=[unix], received_at=received_at)
    # then
    assert statuses(result) == [Outcome.DUPLICATE]
    assert Event.objects.count() == 1


def test_an_event_without_timestamp_resent_later_is_a_duplicate(tokens, event_payload, received_at):
    # given: stamped at its first receipt
    event = event_payload(code="llm_tokens", properties={"tokens": 1}, _drop=("timestamp",))
    usage_events_ingest(events=[event], received_at=received_at)
    # when
    later = received_at.replace(hour=18)
    result = usage_events_ingest(events=[event], received_at=later)
    # then
    assert statuses(result) == [Outcome.DUPLICATE]
    assert Event.objects.get().timestamp == received_at


def test_within_a_batch_the_first_occurrence_wins(tokens, event_payload, received_at):
    # given
    first = event_payload(code="llm_tokens", transaction_id="t1", properties={"tokens": 1})
    other = event_payload(code="llm_tokens", transaction_id="t2", properties={"tokens": 2})
    differing = {**first, "properties": {"tokens": 7}}
    # when
    result = usage_events_ingest(
        events=[first, other, dict(first), differing, dict(first)], received_at=received_at
    )
    # then
    assert statuses(result) == [
        Outcome.ACCEPTED,
        Outcome.ACCEPTED,
        Outcome.DUPLICATE,
        Outcome.CONFLICT,
        Outcome.DUPLICATE,
    ]
    assert Event.objects.count() == 2
    assert Event.objects.get(transaction_id="t1").properties == {"tokens": 1}


def test_repeats_in_a_batch_of_an_already_stored_key_compare_with_the_stored_event(
    tokens, event_payload, received_at
):
    # given
    stored = event_payload(code="llm_tokens", transaction_id="t1", properties={"tokens": 1})
    usage_events_ingest(events=[stored], received_at=received_at)
    differing = {**stored, "properties": {"tokens": 2}}
    # when
    result = usage_events_ingest(events=[differing, stored], received_at=received_at)
    # then
    assert statuses(result) == [Outcome.CONFLICT, Outcome.DUPLICATE]
    assert Event.objects.get().properties == {"tokens": 1}


def test_a_failed_insert_writes_nothing_and_the_retry_counts_each_event_once(
    tokens, event_payload, received_at
):
    # given: the database refuses one row in the middle of the statement
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.transaction_id = 'boom' THEN RAISE EXCEPTION 'refused'; END IF;"
            " RETURN NEW; END $$;"
            "CREATE TRIGGER test_refuse_boom BEFORE INSERT ON metering_event"
            " FOR EACH ROW EXECUTE FUNCTION test_refuse_boom();"
        )
    batch = [
        event_payload(code="llm_tokens", transaction_id=txn, customer_id="ghost")
        | {"properties": {"tokens": 1}}
        for txn in ("a", "b", "boom", "c")
    ] + [event_payload(code="unknown-code")]
    # when
    with pytest.raises(Exception, match="refused"):
        usage_events_ingest(events=batch, received_at=received_at)
    # then
    assert Event.objects.count() == 0
    assert UnknownCustomer.objects.count() == 0
    assert IngestRejection.objects.count() == 0
    # when the fault is gone, the same batch is retried twice
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_refuse_boom ON metering_event")
    retry = usage_events_ingest(events=batch, received_at=received_at)
    again = usage_events_ingest(events=batch, received_at=received_at)
    # then
    assert (retry.accepted, retry.rejected) == (4, 1)
    assert (again.accepted, again.duplicates) == (0, 4)
    assert Event.objects.count() == 4
    assert UnknownCustomer.objects.get().event_count == 4


def test_a_failure_after_the_insert_rolls_the_batch_back(tokens, event_payload, received_at):
    # given
    batch = [event_payload(code="llm_tokens", properties={"tokens": 1}) for _ in range(3)]
    inserted = []

    def ingest_then_fail():
        with transaction.atomic():
            inserted.append(usage_events_ingest(events=batch, received_at=received_at).accepted)
            raise RuntimeError("the request failed afterwards")

    # when: the caller's transaction fails after the events were inserted
    with pytest.raises(RuntimeError):
        ingest_then_fail()
    # then
    assert inserted == [3]
    assert Event.objects.count() == 0
    retry = usage_events_ingest(events=batch, received_at=received_at)
    assert retry.accepted == 3
    assert Event.objects.count() == 3


def test_member_ids_resolve_to_their_customer_and_are_kept(
    make_metric, make_alias, event_payload, received_at
):
    # given
    make_metric("active_users", aggregation="unique_count", field_name="user_id")
    make_alias("acme")
    make_alias("seat-7", customer_id="acme")
    # when
    result = usage_events_ingest(
        events=[
            event_payload(code="active_users", customer_id="seat-7", transaction_id="t1"),
            event_payload(code="active_users", customer_id="acme", transaction_id="t2"),
        ],
        received_at=received_at,
    )
    # then
    assert result.accepted == 2
    stored = Event.objects.order_by("transaction_id")
    assert list(stored.values_list("customer_id", "member_id", "transaction_id")) == [
        ("acme", "seat-7", "t1"),
        ("acme", "", "t2"),
    ]
    assert UnknownCustomer.objects.count() == 0


def test_a_member_id_and_its_customer_id_share_transaction_ids(
    make_metric, make_alias, event_payload, received_at
):
    # given: one key, (acme, t1), sent once under each id
    make_metric()
    make_alias("acme")
    make_alias("seat-7", customer_id="acme")
    # when
    result = usage_events_ingest(
        events=[
            event_payload(customer_id="seat-7", transaction_id="t1"),
            event_payload(customer_id="acme", transaction_id="t1"),
        ],
        received_at=received_at,
    )
    # then: as sent they differ, so the second is a conflict
    assert statuses(result) == [Outcome.ACCEPTED, Outcome.CONFLICT]
    assert Event.objects.get().member_id == "seat-7"


def test_unknown_customers_are_accepted_and_counted(
    make_metric, make_alias, event_payload, received_at
):
    # given
    make_metric()
    make_alias("acme")
    first = [
        event_payload(customer_id="ghost", transaction_id="g1"),
        event_payload(customer_id="ghost", transaction_id="g2"),
        event_payload(customer_id="ghost", transaction_id="g1"),  # repeat: not counted
        event_payload(customer_id="phantom", transaction_id="p1"),
        event_payload(customer_id="acme", transaction_id="a1"),
    ]
    usage_events_ingest(events=first, received_at=received_at)
    later = received_at.replace(hour=20)
    # when
    result = usage_events_ingest(
        events=[event_payload(customer_id="ghost", transaction_id="g3"), *first],
        received_at=later,
    )
    # then
    assert result.accepted == 1
    assert Event.objects.count() == 5
    unknown = {u.customer_id: u for u in UnknownCustomer.objects.all()}
    assert sorted(unknown) == ["ghost", "phantom"]
    assert unknown["ghost"].event_count == 3
    assert (unknown["ghost"].first_seen_at, unknown["ghost"].last_seen_at) == (received_at, later)
    assert (unknown["phantom"].event_count, unknown["phantom"].last_seen_at) == (1, received_at)


def test_valid_events_are_stored_when_others_are_rejected(tokens, event_payload, received_at):
    # given
    batch = [
        event_payload(code="llm_tokens", transaction_id="ok-1", properties={"tokens": 5}),
        event_payload(code="llm_tokens", transaction_id="bad-1", properties={"tokens": "lots"}),
        event_payload(code="nope", transaction_id="bad-2"),
        event_payload(code="llm_tokens", transaction_id="ok-2", properties={"tokens": "2.5"}),
        "not an event",
    ]
    # when
    result = usage_events_ingest(events=batch, received_at=received_at, api_key_prefix="ab12cd34")
    # then
    assert statuses(result) == [
        Outcome.ACCEPTED,
        Outcome.REJECTED,
        Outcome.REJECTED,
        Outcome.ACCEPTED,
        Outcome.REJECTED,
    ]
    assert (result.accepted, result.rejected) == (2, 3)
    assert sorted(Event.objects.values_list("transaction_id", flat=True)) == ["ok-1", "ok-2"]
    rejections = list(
        IngestRejection.objects.order_by("id").values(
            "transaction_id", "code", "field", "api_key_prefix", "received_at", "payload"
        )
    )
    assert [(r["transaction_id"], r["code"], r["field"]) for r in rejections] == [
        ("bad-1", "llm_tokens", "properties.tokens"),
        ("bad-2", "nope", "code"),
        ("", "", "event"),
    ]
    assert {(r["api_key_prefix"], r["received_at"]) for r in rejections} == {
        ("ab12cd34", received_at)
    }
    assert rejections[0]["payload"] == batch[1]
    assert rejections[2]["payload"] == "not an event"
