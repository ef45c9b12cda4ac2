"""Requests that used to reach a 500 outside ingest: each is a 4xx in the error shape."""

import json

import pytest
from django.test import override_settings

from plans.models import Customer, Subscription
from tests.plans.factories import make_customer, make_published_plan

pytestmark = pytest.mark.django_db


def _post_raw(client, url, body: bytes):
    return client.generic("POST", url, body, content_type="application/json")


def _error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message", "fields"} <= set(body["error"])
    return body["error"]


@pytest.mark.parametrize(
    ("_case", "query", "field"),
    [
        ("a huge offset", "offset=100000000000000000000", "offset"),
        ("an offset past the bound", "offset=1000001", "offset"),
        ("a limit past the bound", "limit=201", "limit"),
        ("a NUL in a parameter", "search=a%00b", "search"),
    ],
)
def test_list_parameters_out_of_bounds_are_a_400(authed_client, _case, query, field):
    error = _error(authed_client.get(f"/api/v1/customers?{query}"), 400)
    assert list(error["fields"]) == [field]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/customers/a%00b",
        "/api/v1/customers/a%00b/usage",
        "/api/v1/plans/a%00b",
        "/api/v1/subscriptions/a%00b",
        "/api/v1/subscriptions/a%00b/overrides",
    ],
)
def test_a_nul_in_a_path_id_is_a_400(authed_client, path):
    error = _error(authed_client.get(path), 400)
    assert error["fields"] == {"path": ["Must not contain NUL characters."]}


@pytest.mark.parametrize(
    ("_case", "body", "field"),
    [
        (
            "NUL in a metadata value",
            b'{"external_id": "a", "metadata": {"k": "\\u0000"}}',
            "metadata.k",
        ),
        ("NUL in a metadata key", b'{"external_id": "a", "metadata": {"k\\u0000": 1}}', "metadata"),
        ("1e309 in metadata", b'{"external_id": "a", "metadata": {"k": 1e309}}', "__all__"),
        ("Infinity in metadata", b'{"external_id": "a", "metadata": {"k": Infinity}}', "__all__"),
        ("a number as external id", b'{"external_id": 12}', "external_id"),
        ("a number as name", b'{"external_id": "a", "name": 12.5}', "name"),
        ("a slash in the external id", b'{"external_id": "a/b"}', "external_id"),
        (
            "metadata over 8 KiB",
            json.dumps({"external_id": "a", "metadata": {"k": "x" * 9000}}).encode(),
            "metadata",
        ),
        ("invalid UTF-8", b'{"external_id": "\xff"}', "__all__"),
    ],
)
def test_bad_customer_bodies_are_a_400_and_store_nothing(authed_client, _case, body, field):
    # when
    response = _post_raw(authed_client, "/api/v1/customers", body)

    # then
    error = _error(response, 400)
    if field != "__all__":
        assert list(error["fields"]) == [field]
    assert not Customer.objects.exists()


def test_json_nested_5000_levels_is_a_400(authed_client):
    body = b'{"external_id": "a", "metadata": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001
    error = _error(_post_raw(authed_client, "/api/v1/customers", body), 400)
    assert error["code"] == "parse_error"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_a_body_over_the_upload_limit_is_a_413(authed_client):
    body = json.dumps({"external_id": "a", "name": "x" * 2000}).encode()
    error = _error(_post_raw(authed_client, "/api/v1/customers", body), 413)
    assert error["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("_case", "fields", "field"),
    [
        ("three million trial days", {"trial_days": 3_000_000}, "trial_days"),
        ("a start in year 9999", {"started_at": "9999-12-31T00:00:00Z"}, "started_at"),
        ("a start in year 1", {"started_at": "0001-01-01T00:00:00+01:00"}, "started_at"),
    ],
)
def test_subscription_dates_and_durations_out_of_range_are_a_400(
    authed_client, _case, fields, field
):
    # given
    make_customer("acme")
    make_published_plan("pro")

    # when
    response = authed_client.post(
        "/api/v1/subscriptions", {"customer": "acme", "plan": "pro", **fields}, format="json"
    )

    # then
    error = _error(response, 400)
    assert list(error["fields"]) == [field]
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("_case", "query", "field"),
    [
        ("from in year 9999", "from=9999-06-01T00:00:00Z&to=9999-07-01T00:00:00Z", "from"),
        ("from in year 1", "from=0001-01-01T00:00:00%2B01:00&to=2026-01-01T00:00:00Z", "from"),
    ],
)
def test_usage_periods_out_of_range_are_a_400(authed_client, _case, query, field):
    error = _error(authed_client.get(f"/api/v1/customers/acme/usage?{query}"), 400)
    assert field in error["fields"]


def test_a_bad_host_under_the_api_answers_in_the_error_shape(client):
    response = client.get("/api/v1/customers", HTTP_HOST="evil.example")
    error = _error(response, 400)
    assert error["code"] == "bad_request"


def test_a_nul_inside_an_override_value_is_a_400_naming_the_path(authed_client):
    # given
    make_customer("acme")
    make_published_plan("pro")
    created = authed_client.post(
        "/api/v1/subscriptions", {"customer": "acme", "plan": "pro"}, format="json"
    ).json()

    # when
    response = _post_raw(
        authed_client,
        f"/api/v1/subscriptions/{created['external_id']}/overrides",
        b'{"kind": "base_fee", "value": {"a": ["\\u0000"]}, "reason": "r"}',
    )

    # then
    error = _error(response, 400)
    assert list(error["fields"]) == ["value.a[0]"]


def test_a_nul_in_a_field_the_endpoint_ignores_is_ignored(authed_client):
    response = _post_raw(authed_client, "/api/v1/customers", b'{"external_id": "a", "x\\u0000": 1}')
    assert response.status_code == 201


@pytest.mark.parametrize("value", [0, 1, "yes", "true", None])
def test_a_json_boolean_takes_true_or_false_only(authed_client, value):
    # given
    make_customer("acme")
    make_published_plan("pro")
    created = authed_client.post(
        "/api/v1/subscriptions", {"customer": "acme", "plan": "pro"}, format="json"
    ).json()

    # when
    response = authed_client.post(
        f"/api/v1/subscriptions/{created['external_id']}/cancel",
        {"at_period_end": value},
        format="json",
    )

    # then
    error = _error(response, 400)
    assert list(error["fields"]) == ["at_period_end"]
    assert Subscription.objects.get().canceled_at is None
