import pytest
from rest_framework.test import APIClient

from metering.models import Event, IngestRejection

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


@pytest.fixture
def tokens(make_metric):
    return make_metric("llm_tokens", aggregation="sum", field_name="tokens")


@pytest.fixture
def ingest_client(make_api_key):
    api_key, raw_key = make_api_key(scopes=["events:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    client.api_key = api_key
    return client


def post(client, event):
    return client.post(URL, event, format="json")


def test_a_new_event_is_stored_and_answers_201(tokens, ingest_client, event_payload):
    # given
    event = event_payload(code="llm_tokens", transaction_id="t1", properties={"tokens": 12})
    # when
    response = post(ingest_client, event)
    # then
    assert response.status_code == 201
    assert response.json() == {"status": "accepted", "transaction_id": "t1", "customer_id": "acme"}
    assert Event.objects.count() == 1


def test_the_same_event_again_answers_200_duplicate(tokens, ingest_client, event_payload):
    # given
    event = event_payload(code="llm_tokens", transaction_id="t1", properties={"tokens": 12})
    post(ingest_client, event)
    # when
    response = post(ingest_client, event)
    # then
    assert response.status_code == 200
    assert response.json() == {
        "status": "duplicate",
        "transaction_id": "t1",
        "customer_id": "acme",
    }
    assert Event.objects.count() == 1


def test_another_payload_for_a_stored_key_is_409_and_the_original_kept(
    tokens, ingest_client, event_payload
):
    # given
    event = event_payload(code="llm_tokens", transaction_id="t1", properties={"tokens": 12})
    post(ingest_client, event)
    # when
    response = post(ingest_client, {**event, "properties": {"tokens": 13}})
    # then
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "conflict"
    assert (error["transaction_id"], error["customer_id"]) == ("t1", "acme")
    assert Event.objects.get().properties == {"tokens": 12}


def test_a_rejected_event_is_400_naming_the_field(tokens, ingest_client, event_payload):
    # when
    event = event_payload(
        code="llm_tokens", timestamp="2026-05-01T12:00:00", properties={"tokens": 1}
    )
    response = post(ingest_client, event)
    # then
    assert response.status_code == 400
    reason = "The timestamp has no UTC offset; add one (Z or +02:00) or send Unix seconds."
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": f"timestamp: {reason}",
            "fields": {"timestamp": [reason]},
        }
    }
    assert Event.objects.count() == 0
    rejection = IngestRejection.objects.get()
    assert (rejection.field, rejection.api_key_prefix) == (
        "timestamp",
        ingest_client.api_key.prefix,
    )


def test_a_body_that_is_not_json_is_400(tokens, ingest_client):
    response = ingest_client.post(URL, b'{"transaction_id": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["message"].startswith("The body is not valid JSON")
    assert (Event.objects.count(), IngestRejection.objects.count()) == (0, 0)


def test_a_body_that_is_not_an_object_is_a_rejected_event(tokens, ingest_client):
    response = ingest_client.post(URL, b"[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"event": ["An event is a JSON object."]}


def test_ingest_needs_the_events_write_scope(tokens, make_api_key, event_payload):
    # given
    _, raw_key = make_api_key(scopes=["events:read", "usage:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    # when
    response = post(client, event_payload())
    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "missing_scope"
    assert Event.objects.count() == 0


def test_ingest_needs_an_api_key(tokens, api_client, event_payload):
    response = post(api_client, event_payload())
    assert response.status_code == 401
    assert Event.objects.count() == 0
