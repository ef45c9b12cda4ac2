"""Ingest input that used to reach a 500: each bad event is rejected alone, naming its field."""

import json

import pytest
from rest_framework.test import APIClient

from metering.models import Event

pytestmark = pytest.mark.django_db

BATCH = "/api/v1/events/batch"
SINGLE = "/api/v1/events"


@pytest.fixture
def client(make_api_key, make_metric):
    make_metric("api_calls")
    make_metric("refunds", aggregation="sum", field_name="amount")
    _, raw_key = make_api_key(scopes=["events:write"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


def _event(transaction_id: str, **fields) -> bytes:
    body = {"transaction_id": transaction_id, "customer_id": "acme", "code": "api_calls"}
    return json.dumps({**body, **fields}).encode()


def _batch(*events: bytes) -> bytes:
    return b'{"events": [' + b",".join(events) + b"]}"


def _post(client, url, body: bytes, content_type="application/json"):
    return client.generic("POST", url, body, content_type=content_type)


def _deep(levels: int) -> bytes:
    return b'{"transaction_id": "deep", "customer_id": "acme", "code": "api_calls", ' + (
        b'"properties": ' + b'{"a": ' * levels + b"1" + b"}" * levels + b"}"
    )


INVALID_UTF8 = (
    b'{"transaction_id": "bad-utf8", "customer_id": "acme", "code": "api_calls", '
    b'"properties": {"name": "\xff"}}'
)


@pytest.mark.parametrize(
    ("_case", "bad_event", "field"),
    [
        ("invalid UTF-8 in a property", INVALID_UTF8, "properties.name"),
        ("nested 950 levels", _deep(950), "properties"),
        ("nested 33 levels", _deep(32), "properties"),
        ("larger than 16 KiB", _event("big", properties={"x": "y" * 17000}), "event"),
    ],
)
def test_one_bad_event_is_rejected_and_the_rest_of_its_batch_stored(
    client, _case, bad_event, field
):
    # given: a batch with a valid event on each side of the bad one
    body = _batch(_event("ok-1"), bad_event, _event("ok-2"))

    # when
    response = _post(client, BATCH, body)

    # then
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted"]
    assert results[1]["field"] == field
    assert sorted(Event.objects.values_list("transaction_id", flat=True)) == ["ok-1", "ok-2"]


def test_an_event_nested_32_levels_deep_is_accepted(client):
    response = _post(client, BATCH, _batch(_deep(31)))
    assert response.json()["results"] == [{"index": 0, "status": "accepted"}]


@pytest.mark.parametrize(
    ("_case", "body", "field"),
    [
        ("invalid UTF-8 in a property", INVALID_UTF8, "properties.name"),
        ("nested 950 levels", _deep(950), "properties"),
    ],
)
def test_a_bad_single_event_is_a_400_naming_the_field(client, _case, body, field):
    response = _post(client, SINGLE, body)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("_case", "amount", "status"),
    [
        ("a negative refund", -12.5, "accepted"),
        ("a negative decimal string", "-3", "accepted"),
        ("31 integer digits", "9" * 31, "rejected"),
        ("1e40", 1e40, "rejected"),
        ("31 decimal places", "0." + "1" * 31, "rejected"),
        ("the largest accepted", "-" + "9" * 30 + "." + "9" * 30, "accepted"),
    ],
)
def test_numbers_a_metric_reads_are_accepted_only_when_pricing_can_handle_them(
    client, _case, amount, status
):
    # when
    body = _event("n", code="refunds", properties={"amount": amount})
    response = _post(client, BATCH, _batch(body))

    # then
    assert response.json()["results"][0]["status"] == status
    if status == "rejected":
        assert response.json()["results"][0]["field"] == "properties.amount"


@pytest.mark.parametrize("url", [SINGLE, BATCH, "/api/v1/events/lookup"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_ingest_answers_415_to_a_body_that_is_not_json(make_api_key, url, content_type):
    _, raw_key = make_api_key()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    response = _post(client, url, _batch(_event("x")), content_type=content_type)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
