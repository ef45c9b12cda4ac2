import pytest
from rest_framework.test import APIClient

from metering.models import Event

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/lookup"


@pytest.fixture
def reader(make_api_key):
    _, raw_key = make_api_key(scopes=["events:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def stored(make_metric, make_alias, authed_client, event_payload):
    make_metric()
    make_alias("acme")
    make_alias("seat-7", customer_id="acme")
    events = [
        event_payload(transaction_id="t1", timestamp="2026-05-01T10:00:00Z"),
        event_payload(customer_id="seat-7", transaction_id="t2"),
    ]
    response = authed_client.post("/api/v1/events/batch", {"events": events}, format="json")
    assert response.json()["accepted"] == 2
    return events


def test_lookup_answers_which_events_landed_when_and_with_what_hash(stored, reader):
    # when
    response = reader.post(
        URL,
        {
            "events": [
                {"customer_id": "acme", "transaction_id": "t1"},
                {"customer_id": "acme", "transaction_id": "never-sent"},
                {"customer_id": "seat-7", "transaction_id": "t2"},
                {"customer_id": "acme", "transaction_id": "t2"},
            ]
        },
        format="json",
    )
    # then
    assert response.status_code == 200
    t1, t2 = Event.objects.get(transaction_id="t1"), Event.objects.get(transaction_id="t2")
    results = response.json()["results"]
    assert results[0] == {
        "customer_id": "acme",
        "transaction_id": "t1",
        "found": True,
        "received_at": t1.received_at.isoformat().replace("+00:00", "Z"),
        "timestamp": "2026-05-01T10:00:00Z",
        "payload_hash": t1.payload_hash,
        "code": "api_calls",
    }
    assert results[1] == {"customer_id": "acme", "transaction_id": "never-sent", "found": False}
    assert (results[2]["found"], results[2]["payload_hash"]) == (True, t2.payload_hash)
    assert (results[3]["found"], results[3]["payload_hash"]) == (True, t2.payload_hash)


def test_the_hash_tells_a_resend_of_the_same_payload_from_another(
    stored, reader, authed_client, event_payload
):
    # given
    def hash_of(event):
        authed_client.post("/api/v1/events/batch", {"events": [event]}, format="json")
        key = {"customer_id": event["customer_id"], "transaction_id": event["transaction_id"]}
        result = reader.post(URL, {"events": [key]}, format="json").json()["results"][0]
        return result["payload_hash"]

    same = dict(stored[0])
    fresh = event_payload(transaction_id="t9", timestamp="2026-05-01T10:00:00Z")
    # then
    assert hash_of(same) == Event.objects.get(transaction_id="t1").payload_hash
    assert hash_of(fresh) != hash_of(same)
    assert len(hash_of(same)) == 32


def test_lookup_needs_the_events_read_scope(stored, make_api_key):
    _, raw_key = make_api_key(scopes=["events:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    response = client.post(
        URL, {"events": [{"customer_id": "acme", "transaction_id": "t1"}]}, format="json"
    )
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("_case", "body", "field"),
    [
        ("more than 1000 pairs", "too many", "events"),
        ("no pairs", {"events": []}, "events"),
        (
            "a pair without transaction_id",
            {"events": [{"customer_id": "acme"}]},
            "events[0].transaction_id",
        ),
        (
            "an empty customer_id",
            {"events": [{"customer_id": "", "transaction_id": "t1"}]},
            "events[0].customer_id",
        ),
    ],
)
def test_a_malformed_lookup_is_400(reader, _case, body, field):
    if body == "too many":
        body = {"events": [{"customer_id": "a", "transaction_id": f"t{n}"} for n in range(1001)]}
    response = reader.post(URL, body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
