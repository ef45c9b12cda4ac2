"""Invoices API: list and retrieve with lines, the running period, and the schema."""

from decimal import Decimal

import pytest
import time_machine

from invoices.services import subscription_bill_due
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc

pytestmark = pytest.mark.django_db

FEB_1 = utc(2026, 2, 1, 0, 5)


@pytest.fixture
def billed():
    version = plan_version()
    subscription = subscribe(version, started_at=utc(2026, 1, 1), external_id="sub-acme")
    send_tokens("acme", 12000, at=utc(2026, 1, 10))
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    return invoice


def test_list_and_retrieve_show_lines_with_their_arithmetic(authed_client, billed):
    # when the customer's invoices are listed and one is read
    listed = authed_client.get("/api/v1/invoices", {"customer": "acme"})
    detail = authed_client.get(f"/api/v1/invoices/{billed.pk}")

    # then
    assert listed.status_code == 200
    assert (listed.json()["count"], listed.json()["results"][0]["number"]) == (
        1,
        "INV-2026-000001",
    )
    body = detail.json()
    assert (body["status"], body["total"], body["currency"]) == ("finalized", "169.00", "USD")
    base, usage = body["lines"]
    assert (base["kind"], base["amount"]) == ("base_fee", "49.00")
    assert (usage["kind"], usage["quantity"], usage["amount"], usage["event_count"]) == (
        "usage",
        "12000",
        "120.00",
        1,
    )
    assert [row["amount"] for row in usage["breakdown"]["breakdown"]] == [
        "20.00",
        "90.00",
        "10.000",
    ]


@pytest.mark.parametrize(
    ("_case", "url", "status", "field"),
    [
        ("unknown invoice", "/api/v1/invoices/999999", 404, None),
        ("unknown customer", "/api/v1/invoices?customer=nobody", 404, "customer"),
        ("bad status", "/api/v1/invoices?status=lost", 400, "status"),
        ("bad limit", "/api/v1/invoices?limit=0", 400, "limit"),
        ("unknown customer usage", "/api/v1/customers/nobody/current_usage", 404, "customer"),
        ("unknown subscription", "/api/v1/subscriptions/nope/upcoming_invoice", 404, None),
    ],
)
def test_bad_requests_get_the_error_shape(authed_client, _case, url, status, field):
    response = authed_client.get(url)
    assert response.status_code == status
    error = response.json()["error"]
    assert set(error) >= {"code", "message", "fields"}
    if field:
        assert field in error["fields"]


def test_current_usage_and_upcoming_invoice_show_the_running_period(authed_client):
    # given a subscription in its second month with 2,000 tokens so far
    version = plan_version()
    subscribe(version, started_at=utc(2026, 1, 1), external_id="sub-acme")
    send_tokens("acme", 2000, at=utc(2026, 1, 20))

    # when read on Jan 25
    with time_machine.travel(utc(2026, 1, 25), tick=False):
        usage = authed_client.get("/api/v1/customers/acme/current_usage")
        upcoming = authed_client.get("/api/v1/subscriptions/sub-acme/upcoming_invoice")

    # then both show base fee + 1000 x 0.02 + 1000 x 0.01
    assert usage.status_code == upcoming.status_code == 200
    (running,) = usage.json()["subscriptions"]
    assert running == upcoming.json()
    assert running["total"] == "79.00"
    assert [(line["kind"], line["amount"]) for line in running["lines"]] == [
        ("base_fee", "49.00"),
        ("usage", "30.00"),
    ]
    assert Decimal(running["lines"][1]["quantity"]) == 2000


def test_a_key_without_the_invoices_scope_is_refused(make_api_key, api_client, billed):
    _, key = make_api_key(scopes=["usage:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api_client.get("/api/v1/invoices").status_code == 403


def test_the_schema_documents_the_invoice_operations(authed_client):
    schema = authed_client.get("/api/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    assert set(paths["/api/v1/invoices/{invoice_id}"]["get"]["responses"]) >= {"200", "404"}
    assert set(paths["/api/v1/invoices"]["get"]["responses"]) >= {"200", "400", "404"}
    assert "/api/v1/customers/{external_id}/current_usage" in paths
    upcoming = paths["/api/v1/subscriptions/{external_id}/upcoming_invoice"]["get"]
    assert set(upcoming["responses"]) >= {"200", "404", "409"}
