from datetime import UTC, datetime
from decimal import Decimal

import pytest

from metering.models import Aggregation, BillableMetric, Event

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/acme/usage"
PERIOD = {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00+00:00"}


@pytest.fixture
def metrics(db) -> dict[str, BillableMetric]:
    return {
        "calls": BillableMetric.objects.create(
            code="calls", name="API calls", aggregation=Aggregation.COUNT
        ),
        "tokens": BillableMetric.objects.create(
            code="tokens",
            name="LLM tokens",
            aggregation=Aggregation.SUM,
            field_name="tokens",
            rounding="round",
            rounding_precision=1,
        ),
        "users": BillableMetric.objects.create(
            code="users",
            name="Active users",
            aggregation=Aggregation.UNIQUE_COUNT,
            field_name="user_id",
        ),
    }


@pytest.fixture
def events(metrics) -> None:
    rows = [
        ("acme", "calls", datetime(2026, 3, 2, tzinfo=UTC), {}, "sub-1"),
        ("acme", "calls", datetime(2026, 3, 3, tzinfo=UTC), {}, "sub-2"),
        ("acme", "calls", datetime(2026, 4, 1, tzinfo=UTC), {}, "sub-1"),
        ("acme", "tokens", datetime(2026, 3, 5, tzinfo=UTC), {"tokens": "100.26"}, "sub-1"),
        ("acme", "tokens", datetime(2026, 3, 6, tzinfo=UTC), {"tokens": 23}, "sub-1"),
        ("globex", "calls", datetime(2026, 3, 2, tzinfo=UTC), {}, ""),
    ]
    Event.objects.bulk_create(
        Event(
            customer_id=customer,
            transaction_id=f"t{i}",
            code=code,
            subscription_id=subscription,
            timestamp=at,
            received_at=at,
            properties=properties,
            payload_hash="0" * 32,
        )
        for i, (customer, code, at, properties, subscription) in enumerate(rows)
    )


def test_lists_every_metrics_usage_with_zero_where_none(authed_client, events):
    # when
    response = authed_client.get(URL, PERIOD)
    # then
    assert response.status_code == 200
    assert response.json() == {
        "customer_id": "acme",
        "from": "2026-03-01T00:00:00Z",
        "to": "2026-04-01T00:00:00Z",
        "usage": [
            {
                "metric": "calls",
                "name": "API calls",
                "aggregation": "count",
                "quantity": "2",
                "event_count": 2,
            },
            {
                "metric": "tokens",
                "name": "LLM tokens",
                "aggregation": "sum",
                "quantity": "123.3",
                "event_count": 2,
            },
            {
                "metric": "users",
                "name": "Active users",
                "aggregation": "unique_count",
                "quantity": "0",
                "event_count": 0,
            },
        ],
    }


def test_one_metric_and_one_subscription(authed_client, events):
    # when
    response = authed_client.get(
        URL,
        {
            "metric": "calls",
            "subscription_id": "sub-2",
            "from": "2026-03-01T01:00:00+01:00",
            "to": "2026-03-31T00:00:00-05:00",
        },
    )
    # then
    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"]) == ("2026-03-01T00:00:00Z", "2026-03-31T05:00:00Z")
    assert body["usage"] == [
        {
            "metric": "calls",
            "name": "API calls",
            "aggregation": "count",
            "quantity": "1",
            "event_count": 1,
        }
    ]


def test_an_unencoded_plus_in_the_offset_is_understood(authed_client, events):
    # given a query string where '+' was not encoded as %2B and so reads as a space
    query = "metric=tokens&from=2026-03-01T00:00:00+00:00&to=2026-03-06T00:00:00+00:00"
    # when
    response = authed_client.get(f"{URL}?{query}")
    # then
    assert response.status_code == 200
    assert response.json()["usage"][0]["quantity"] == "100.3"


def test_a_customer_without_events_has_zero_usage(authed_client, metrics):
    # when
    response = authed_client.get("/api/v1/customers/nobody/usage", {**PERIOD, "metric": "tokens"})
    # then
    assert response.status_code == 200
    assert response.json()["usage"][0]["quantity"] == "0.0"
    assert Decimal(response.json()["usage"][0]["quantity"]) == 0


@pytest.mark.parametrize(
    ("_case", "params", "field"),
    [
        ("from missing", {"to": PERIOD["to"]}, "from"),
        ("to missing", {"from": PERIOD["from"]}, "to"),
        ("naive from", {**PERIOD, "from": "2026-03-01T00:00:00"}, "from"),
        ("naive to", {**PERIOD, "to": "2026-04-01T00:00:00"}, "to"),
        ("date only", {**PERIOD, "from": "2026-03-01"}, "from"),
        ("not a date", {**PERIOD, "to": "next tuesday"}, "to"),
        ("to before from", {"from": PERIOD["to"], "to": PERIOD["from"]}, "to"),
        ("empty period", {"from": PERIOD["from"], "to": PERIOD["from"]}, "to"),
        ("over a year", {"from": "2025-03-01T00:00:00Z", "to": "2026-03-01T00:00:01Z"}, "to"),
        ("unknown metric", {**PERIOD, "metric": "nope"}, "metric"),
        ("metric too long", {**PERIOD, "metric": "x" * 101}, "metric"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_field(authed_client, metrics, _case, params, field):
    # when
    response = authed_client.get(URL, params)
    # then
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]


def test_exactly_one_year_is_allowed(authed_client, metrics):
    # when
    response = authed_client.get(
        URL, {"from": "2025-03-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
    )
    # then
    assert response.status_code == 200


def test_a_key_without_the_usage_scope_is_refused(api_client, make_api_key, metrics):
    # given
    _, raw_key = make_api_key(scopes=["events:write", "customers:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    # when
    response = api_client.get(URL, PERIOD)
    # then
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "missing_scope"


def test_without_a_key_is_a_401(api_client, metrics):
    response = api_client.get(URL, PERIOD)
    assert response.status_code == 401


def test_the_schema_documents_the_usage_endpoint(client):
    # when
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    # then
    operation = schema["paths"]["/api/v1/customers/{customer_id}/usage"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {"customer_id", "metric", "from", "to", "subscription_id"} <= names
    assert operation["operationId"] == "customer_usage_get"
