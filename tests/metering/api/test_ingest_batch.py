import msgspec
import pytest
from rest_framework.test import APIClient

from metering.models import Event, IngestRejection

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/batch"


@pytest.fixture
def metrics(make_metric):
    make_metric("api_calls")
    make_metric("llm_tokens", aggregation="sum", field_name="tokens")


@pytest.fixture
def ingest_client(make_api_key):
    api_key, raw_key = make_api_key(scopes=["events:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    client.api_key = api_key
    return client


def post(client, body):
    return client.post(URL, body, format="json")


def test_each_event_has_its_outcome_by_index(metrics, ingest_client, event_payload):
    # given: t1 is already stored
    stored = event_payload(code="llm_tokens", transaction_id="t1", properties={"tokens": 5})
    post(ingest_client, {"events": [stored]})
    events = [
        stored,  # duplicate
        {**stored, "properties": {"tokens": 6}},  # conflict
        event_payload(transaction_id="t2"),  # accepted
        event_payload(transaction_id="t3", timestamp="soon"),  # rejected
        event_payload(code="llm_tokens", transaction_id="t4", properties={"tokens": "1.5"}),
    ]
    # when
    response = post(ingest_client, {"events": events})
    # then
    assert response.status_code == 200
    reason = "Not a timestamp: use ISO 8601 with an offset (2024-05-01T12:00:00Z) or Unix seconds."
    assert response.json() == {
        "accepted": 2,
        "duplicates": 1,
        "conflicts": 1,
        "rejected": 1,
        "results": [
            {"index": 0, "status": "duplicate"},
            {"index": 1, "status": "conflict"},
            {"index": 2, "status": "accepted"},
            {"index": 3, "status": "rejected", "field": "timestamp", "reason": reason},
            {"index": 4, "status": "accepted"},
        ],
    }
    assert sorted(Event.objects.values_list("transaction_id", flat=True)) == ["t1", "t2", "t4"]
    rejection = IngestRejection.objects.get()
    assert (rejection.transaction_id, rejection.field, rejection.api_key_prefix) == (
        "t3",
        "timestamp",
        ingest_client.api_key.prefix,
    )


def test_a_full_batch_of_1000_is_stored(metrics, ingest_client, event_payload):
    events = [event_payload(transaction_id=f"t{n}") for n in range(1000)]
    response = post(ingest_client, {"events": events})
    assert response.status_code == 200
    assert response.json()["accepted"] == 1000
    assert Event.objects.count() == 1000


@pytest.mark.parametrize(
    ("_case", "body", "field"),
    [
        ("more than 1000 events", "too many", "events"),
        ("no events", {"events": []}, "events"),
        ("events not a list", {"events": {"transaction_id": "t1"}}, "events"),
        ("no events key", {"event": []}, "events"),
        ("a list instead of an object", [{"transaction_id": "t1"}], "__all__"),
    ],
)
def test_a_malformed_envelope_is_400_and_stores_nothing(
    metrics, ingest_client, event_payload, _case, body, field
):
    # given
    if body == "too many":
        body = {"events": [event_payload(transaction_id=f"t{n}") for n in range(1001)]}
    # when
    response = post(ingest_client, body)
    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]
    assert (Event.objects.count(), IngestRejection.objects.count()) == (0, 0)


def test_a_body_that_is_not_json_is_400(metrics, ingest_client):
    response = ingest_client.post(URL, b'{"events": [', content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("The body is not valid JSON")


def test_a_body_over_the_limit_is_413(metrics, ingest_client):
    body = b'{"events": ["' + b"x" * (11 * 1024 * 1024) + b'"]}'
    response = ingest_client.post(URL, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_a_batch_larger_than_django_upload_limit_is_read(metrics, ingest_client, event_payload):
    # given: 1000 events with 3 KiB of properties each, ~3 MB, over Django's 2.5 MB default
    events = [
        event_payload(transaction_id=f"t{n}", properties={"note": "n" * 3000}) for n in range(1000)
    ]
    body = msgspec.json.encode({"events": events})
    assert len(body) > 2_621_440
    # when
    response = ingest_client.post(URL, body, content_type="application/json")
    # then
    assert response.status_code == 200
    assert response.json()["accepted"] == 1000


def test_decimals_sent_over_http_are_stored_exactly(metrics, ingest_client):
    body = (
        b'{"events": [{"transaction_id": "t1", "customer_id": "acme", "code": "llm_tokens",'
        b' "properties": {"tokens": 2.50}}]}'
    )
    response = ingest_client.post(URL, body, content_type="application/json")
    assert response.json()["accepted"] == 1
    assert Event.objects.extra(select={"t": "properties ->> 'tokens'"}).get().t == "2.50"


def test_batch_ingest_needs_the_events_write_scope(metrics, make_api_key, event_payload):
    _, raw_key = make_api_key(scopes=["events:read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    response = post(client, {"events": [event_payload()]})
    assert response.status_code == 403
    assert Event.objects.count() == 0


def test_the_schema_documents_the_ingest_endpoints(client):
    # when
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    # then
    components = schema["components"]["schemas"]
    single = schema["paths"]["/api/v1/events"]["post"]
    batch = schema["paths"]["/api/v1/events/batch"]["post"]
    lookup = schema["paths"]["/api/v1/events/lookup"]["post"]
    assert set(single["responses"]) == {
        *("200", "201", "400", "401", "403", "409", "413", "415", "429")
    }
    assert set(batch["responses"]) >= {"200", "400"}
    assert set(lookup["responses"]) >= {"200", "400"}
    body = batch["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    batch_input = components[body.rsplit("/", 1)[1]]
    assert batch_input["properties"]["events"]["maxItems"] == 1000
    event = components["UsageEventIngestInputRequest"]
    assert set(event["required"]) == {"transaction_id", "customer_id", "code"}
    assert "oneOf" in event["properties"]["timestamp"]
    result = components["UsageEventBatchResult"]["properties"]
    assert set(result) == {"index", "status", "field", "reason"}
