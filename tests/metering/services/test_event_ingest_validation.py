from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection

from metering.models import Event, IngestRejection
from metering.services import Outcome, usage_events_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def metrics(make_metric):
    make_metric("api_calls")
    make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    make_metric(
        "premium_calls",
        aggregation="sum",
        field_name="calls",
        weights={"property": "tier", "values": {"premium": 2}, "default": 1},
    )
    make_metric("seats", aggregation="max", field_name="count")
    make_metric("storage", aggregation="weighted_sum", field_name="gb")
    make_metric("active_users", aggregation="unique_count", field_name="user_id")


def ingest_one(event, received_at):
    result = usage_events_ingest(events=[event], received_at=received_at)
    return result.outcomes[0]


def stored_property(name):
    """The property as stored in jsonb, as text: exact, unlike a float."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT properties ->> %s FROM metering_event", [name])
        return cursor.fetchone()[0]


BIG = {"blob": "x" * 8200}


@pytest.mark.parametrize(
    ("_case", "changes", "field", "reason"),
    [
        (
            "missing transaction_id",
            {"_drop": ("transaction_id",)},
            "transaction_id",
            "This field is required.",
        ),
        ("blank transaction_id", {"transaction_id": "  "}, "transaction_id", "Must not be blank."),
        (
            "transaction_id too long",
            {"transaction_id": "t" * 256},
            "transaction_id",
            "At most 255 characters.",
        ),
        ("numeric transaction_id", {"transaction_id": 7}, "transaction_id", "Must be a string."),
        (
            "missing customer_id",
            {"_drop": ("customer_id",)},
            "customer_id",
            "This field is required.",
        ),
        ("null customer_id", {"customer_id": None}, "customer_id", "This field is required."),
        ("missing code", {"_drop": ("code",)}, "code", "This field is required."),
        ("unknown code", {"code": "nope"}, "code", "No billable metric has the code 'nope'."),
        (
            "naive timestamp",
            {"timestamp": "2026-05-01T12:00:00"},
            "timestamp",
            "The timestamp has no UTC offset; add one (Z or +02:00) or send Unix seconds.",
        ),
        (
            "date only",
            {"timestamp": "2026-05-01"},
            "timestamp",
            "The timestamp has no UTC offset; add one (Z or +02:00) or send Unix seconds.",
        ),
        (
            "more than 24 hours ahead",
            {"timestamp": "2026-05-02T12:30:00.000001Z"},
            "timestamp",
            "The timestamp is more than 24 hours in the future.",
        ),
        (
            "milliseconds instead of seconds",
            {"timestamp": 1777636800000},
            "timestamp",
            "The timestamp is more than 24 hours in the future. Unix timestamps are in seconds, "
            "not milliseconds.",
        ),
        (
            "not a timestamp",
            {"timestamp": "yesterday"},
            "timestamp",
            "Not a timestamp: use ISO 8601 with an offset (2024-05-01T12:00:00Z) or Unix seconds.",
        ),
        (
            "impossible date",
            {"timestamp": "2026-02-30T00:00:00Z"},
            "timestamp",
            "Not a timestamp: use ISO 8601 with an offset (2024-05-01T12:00:00Z) or Unix seconds.",
        ),
        (
            "boolean timestamp",
            {"timestamp": True},
            "timestamp",
            "Use ISO 8601 with an offset (2024-05-01T12:00:00Z) or Unix seconds.",
        ),
        ("properties a list", {"properties": [1, 2]}, "properties", "Must be a JSON object."),
        ("properties a string", {"properties": "tokens=5"}, "properties", "Must be a JSON object."),
        (
            "properties over 8 KiB",
            {"properties": BIG},
            "properties",
            "At most 8192 bytes serialized; these are 8211 bytes.",
        ),
        (
            "text for a sum",
            {"code": "llm_tokens", "properties": {"tokens": "many"}},
            "properties.tokens",
            "Must be a number or a decimal string.",
        ),
        (
            "boolean for a sum",
            {"code": "llm_tokens", "properties": {"tokens": True}},
            "properties.tokens",
            "Must be a number or a decimal string.",
        ),
        (
            "exponent string for a sum",
            {"code": "llm_tokens", "properties": {"tokens": "1e5"}},
            "properties.tokens",
            "Must be a number or a decimal string.",
        ),
        (
            "missing value of a sum",
            {"code": "llm_tokens", "properties": {"model": "gpt-4o"}},
            "properties.tokens",
            "Required by the sum metric 'llm_tokens'.",
        ),
        (
            "object for a max",
            {"code": "seats", "properties": {"count": {"n": 3}}},
            "properties.count",
            "Must be a number or a decimal string.",
        ),
        (
            "null for a weighted sum",
            {"code": "storage", "properties": {"gb": None}},
            "properties.gb",
            "Must be a number or a decimal string.",
        ),
    ],
)
def test_an_invalid_event_is_rejected_with_its_field_and_reason(
    metrics, event_payload, received_at, _case, changes, field, reason
):
    # given
    event = event_payload(**changes)
    # when
    outcome = ingest_one(event, received_at)
    # then
    assert (outcome.status, outcome.field, outcome.reason) == (Outcome.REJECTED, field, reason)
    assert Event.objects.count() == 0
    rejection = IngestRejection.objects.get()
    assert (rejection.field, rejection.reason) == (field, reason)


@pytest.mark.parametrize(
    ("_case", "event", "field"),
    [
        ("a number", 42, "event"),
        ("a list", [{"transaction_id": "t1"}], "event"),
        ("null", None, "event"),
    ],
)
def test_an_event_that_is_not_an_object_is_rejected(metrics, received_at, _case, event, field):
    outcome = ingest_one(event, received_at)
    assert (outcome.status, outcome.field) == (Outcome.REJECTED, field)
    assert outcome.reason == "An event is a JSON object."
    assert Event.objects.count() == 0


def test_a_number_too_large_for_the_database_rejects_only_its_event(metrics, received_at):
    # given
    raw = [
        b'{"transaction_id": "t1", "customer_id": "acme", "code": "api_calls",'
        b' "properties": {"n": 1e99999}}',
        b'{"transaction_id": "t2", "customer_id": "acme", "code": "api_calls"}',
    ]
    # when
    result = usage_events_ingest(events=raw, received_at=received_at)
    # then
    assert [(o.status, o.field) for o in result.outcomes] == [
        (Outcome.REJECTED, "event"),
        (Outcome.ACCEPTED, ""),
    ]
    assert "out of range" in result.outcomes[0].reason
    assert list(Event.objects.values_list("transaction_id", flat=True)) == ["t2"]


def test_nul_characters_are_rejected_not_a_database_error(metrics, event_payload, received_at):
    result = usage_events_ingest(
        events=[
            event_payload(customer_id="ac\x00me"),
            event_payload(properties={"note": "a\x00b"}),
            event_payload(code="no\x00pe"),
        ],
        received_at=received_at,
    )
    assert [(o.status, o.field) for o in result.outcomes] == [
        (Outcome.REJECTED, "customer_id"),
        (Outcome.REJECTED, "properties"),
        (Outcome.REJECTED, "code"),
    ]
    assert IngestRejection.objects.count() == 3


@pytest.mark.parametrize(
    ("_case", "code", "properties"),
    [
        ("decimal string for a sum", "llm_tokens", {"tokens": "12.75"}),
        ("negative decimal string", "llm_tokens", {"tokens": "-3"}),
        ("integer for a sum", "llm_tokens", {"tokens": 12}),
        ("decimal number for a max", "seats", {"count": 3.5}),
        ("weights property left out", "premium_calls", {"calls": 1}),
        ("weights property present", "premium_calls", {"calls": 1, "tier": "premium"}),
        ("no value needed for a count", "api_calls", {}),
        ("unique count value left out", "active_users", {}),
    ],
)
def test_a_valid_event_is_accepted(metrics, event_payload, received_at, _case, code, properties):
    outcome = ingest_one(event_payload(code=code, properties=properties), received_at)
    assert outcome.status == Outcome.ACCEPTED
    assert Event.objects.count() == 1


def test_unknown_top_level_fields_are_ignored(metrics, event_payload, received_at):
    outcome = ingest_one(event_payload(source="sdk-1.2", extra={"x": 1}), received_at)
    assert outcome.status == Outcome.ACCEPTED
    assert Event.objects.get().properties == {}


def test_decimal_values_are_stored_exactly_as_sent(metrics, received_at):
    # given: JSON as it arrives over HTTP
    raw = (
        b'{"transaction_id": "t1", "customer_id": "acme", "code": "llm_tokens",'
        b' "timestamp": "2026-05-01T12:00:00Z",'
        b' "properties": {"tokens": 0.10000000000000000000001}}'
    )
    # when
    usage_events_ingest(events=[raw], received_at=received_at)
    # then
    assert stored_property("tokens") == "0.10000000000000000000001"


@pytest.mark.parametrize(
    ("_case", "timestamp", "stored"),
    [
        ("Unix seconds", 1777636800, datetime(2026, 5, 1, 12, tzinfo=UTC)),
        (
            "decimal Unix seconds",
            Decimal("1777636800.123456"),
            datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC),
        ),
        (
            "Unix seconds as a string",
            "1777636800.5",
            datetime(2026, 5, 1, 12, 0, 0, 500000, tzinfo=UTC),
        ),
        (
            "ISO with an offset",
            "2026-05-01T14:00:00+02:00",
            datetime(2026, 5, 1, 12, tzinfo=UTC),
        ),
        (
            "ISO in UTC",
            "2026-05-01T12:00:00.000250Z",
            datetime(2026, 5, 1, 12, 0, 0, 250, tzinfo=UTC),
        ),
        (
            "an aware datetime from Python",
            datetime(2026, 5, 1, 12, tzinfo=UTC),
            datetime(2026, 5, 1, 12, tzinfo=UTC),
        ),
        ("years ago", "2019-01-01T00:00:00Z", datetime(2019, 1, 1, tzinfo=UTC)),
        (
            "just under 24 hours ahead",
            "2026-05-02T12:30:00Z",
            datetime(2026, 5, 2, 12, 30, tzinfo=UTC),
        ),
    ],
)
def test_timestamps_are_stored_in_utc(
    metrics, event_payload, received_at, _case, timestamp, stored
):
    outcome = ingest_one(event_payload(timestamp=timestamp), received_at)
    assert outcome.status == Outcome.ACCEPTED
    event = Event.objects.get()
    assert (event.timestamp, event.received_at) == (stored, received_at)


def test_decimal_unix_seconds_over_http_keep_their_microseconds(metrics, received_at):
    raw = (
        b'{"transaction_id": "t1", "customer_id": "acme", "code": "api_calls",'
        b' "timestamp": 1777636800.000001}'
    )
    usage_events_ingest(events=[raw], received_at=received_at)
    assert Event.objects.get().timestamp == datetime(2026, 5, 1, 12, 0, 0, 1, tzinfo=UTC)


@pytest.mark.parametrize("timestamp", [None, "absent"])
def test_the_timestamp_defaults_to_the_time_of_receipt(
    metrics, event_payload, received_at, timestamp
):
    event = (
        event_payload(_drop=("timestamp",))
        if timestamp == "absent"
        else event_payload(timestamp=None)
    )
    ingest_one(event, received_at)
    assert Event.objects.get().timestamp == received_at


def test_a_metric_created_a_moment_ago_is_known_to_ingest(make_metric, event_payload, received_at):
    # given: the code is unknown at first
    assert ingest_one(event_payload(code="fresh"), received_at).status == Outcome.REJECTED
    make_metric("fresh")
    # when
    outcome = ingest_one(event_payload(code="fresh"), received_at)
    # then
    assert outcome.status == Outcome.ACCEPTED


def test_the_receipt_time_bounds_the_future(metrics, event_payload, received_at):
    ahead = received_at + timedelta(hours=24)
    outcome = ingest_one(event_payload(timestamp=ahead.isoformat()), received_at)
    assert outcome.status == Outcome.ACCEPTED
