from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from plans.models import Subscription, SubscriptionOverride
from tests.plans.factories import make_customer, make_published_plan, make_subscription

pytestmark = pytest.mark.django_db


@time_machine.travel(datetime(2025, 1, 31, 12, tzinfo=UTC), tick=False)
def test_create_answers_201_then_200_for_the_same_external_id(authed_client):
    # given
    make_published_plan("professional")
    make_customer("acme")
    payload = {"customer": "acme", "plan": "professional", "external_id": "sub-1"}

    # when
    first = authed_client.post("/api/v1/subscriptions", payload, format="json")
    again = authed_client.post("/api/v1/subscriptions", payload, format="json")

    # then
    assert first.status_code == 201
    body = first.json()
    assert (body["plan"], body["version"], body["status"], body["billing_time"]) == (
        "professional",
        1,
        "active",
        "anniversary",
    )
    assert body["current_period_start"] == "2025-01-31T12:00:00Z"
    assert body["current_period_end"] == "2025-02-28T12:00:00Z"
    assert again.status_code == 200
    assert Subscription.objects.count() == 1


@pytest.mark.parametrize(
    ("_case", "payload", "field"),
    [
        ("unknown customer", {"customer": "nobody", "plan": "professional"}, "customer"),
        ("unknown plan", {"customer": "acme", "plan": "nope"}, "plan"),
        ("unknown version", {"customer": "acme", "plan": "professional", "version": 9}, "version"),
    ],
)
def test_create_with_unknown_references_is_404(authed_client, _case, payload, field):
    make_published_plan("professional")
    make_customer("acme")
    response = authed_client.post("/api/v1/subscriptions", payload, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert field in response.json()["error"]["fields"]
    assert not Subscription.objects.exists()


def test_create_with_an_invalid_billing_time_names_the_field(authed_client):
    response = authed_client.post(
        "/api/v1/subscriptions",
        {"customer": "acme", "plan": "professional", "billing_time": "fiscal"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["billing_time"]


def test_retrieve_and_list_for_a_customer(authed_client):
    subscription = make_subscription(external_id="sub-1")
    make_subscription(make_published_plan("starter", base_fee=Decimal("19")), external_id="sub-2")

    one = authed_client.get("/api/v1/subscriptions/sub-1")
    many = authed_client.get("/api/v1/subscriptions", {"customer": "acme"})
    missing = authed_client.get("/api/v1/subscriptions", {"customer": "nobody"})

    assert one.json()["external_id"] == subscription.external_id
    assert {s["external_id"] for s in many.json()["results"]} == {"sub-1", "sub-2"}
    assert missing.status_code == 404
    assert list(missing.json()["error"]["fields"]) == ["customer"]


def test_cancel_at_period_end_then_immediately(authed_client):
    make_subscription(external_id="sub-1")

    at_end = authed_client.post(
        "/api/v1/subscriptions/sub-1/cancel", {"at_period_end": True}, format="json"
    ).json()
    assert (at_end["status"], at_end["cancel_at_period_end"]) == ("active", True)

    now = authed_client.post(
        "/api/v1/subscriptions/sub-1/cancel", {"at_period_end": False}, format="json"
    ).json()
    assert now["status"] == "canceled"
    assert now["ended_at"] is not None

    again = authed_client.post("/api/v1/subscriptions/sub-1/cancel", {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "subscription_not_live"


def test_change_plan_schedules_a_downgrade_at_period_end(authed_client):
    make_published_plan("starter", base_fee=Decimal("19"))
    subscription = make_subscription(make_published_plan("professional"), external_id="sub-1")

    response = authed_client.post(
        "/api/v1/subscriptions/sub-1/change-plan",
        {"plan": "starter", "timing": "period_end"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert body["plan"] == "professional"
    assert body["scheduled_change"]["plan"] == "starter"
    assert body["scheduled_change"]["version"] == 1
    expected_at = subscription.current_period_end.isoformat().replace("+00:00", "Z")
    assert body["scheduled_change"]["at"] == expected_at


def test_change_plan_effective_needs_effective_at(authed_client):
    make_published_plan("starter", base_fee=Decimal("19"))
    make_subscription(external_id="sub-1")
    response = authed_client.post(
        "/api/v1/subscriptions/sub-1/change-plan",
        {"plan": "starter", "timing": "effective"},
        format="json",
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["effective_at"]


def test_overrides_create_list_and_end(authed_client):
    make_subscription(external_id="sub-1")

    created = authed_client.post(
        "/api/v1/subscriptions/sub-1/overrides",
        {
            "kind": "charge",
            "metric": "api-calls",
            "value": {"properties": {"amount": "0.001"}, "charge_model": "standard"},
            "reason": "Negotiated rate",
        },
        format="json",
    )
    assert created.status_code == 201
    override = created.json()
    assert (override["kind"], override["metric"], override["state"]) == (
        "charge",
        "api-calls",
        "active",
    )

    listed = authed_client.get("/api/v1/subscriptions/sub-1/overrides").json()["results"]
    assert [o["id"] for o in listed] == [override["id"]]

    ended = authed_client.post(
        f"/api/v1/subscriptions/sub-1/overrides/{override['id']}/end", {}, format="json"
    )
    assert ended.status_code == 200
    assert ended.json()["state"] == "ended"
    assert SubscriptionOverride.objects.get().valid_until is not None


def test_override_errors_name_their_field(authed_client):
    make_subscription(external_id="sub-1")

    unknown_metric = authed_client.post(
        "/api/v1/subscriptions/sub-1/overrides",
        {"kind": "charge", "metric": "nope", "value": {"properties": {}}, "reason": "x"},
        format="json",
    )
    bad_tiers = authed_client.post(
        "/api/v1/subscriptions/sub-1/overrides",
        {
            "kind": "charge",
            "metric": "api-calls",
            "value": {
                "properties": {"graduated_ranges": [{"from_value": 1, "per_unit_amount": "1"}]}
            },
            "reason": "x",
        },
        format="json",
    )

    assert unknown_metric.status_code == 400
    assert list(unknown_metric.json()["error"]["fields"]) == ["metric"]
    assert bad_tiers.status_code == 400
    assert "value.properties.graduated_ranges[0].from_value" in bad_tiers.json()["error"]["fields"]
    assert not SubscriptionOverride.objects.exists()
