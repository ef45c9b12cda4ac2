"""POST /api/v1/invoices/one_off: 201 on creation, 200 on a replay with the same key, 404
naming the unknown customer or add-on, 400 naming the bad field, 409 for a reused key; in the
schema with each status."""

import pytest

from invoices.models import Invoice, InvoiceLine
from tests.invoices.add_on_factories import make_add_on
from tests.plans.factories import make_customer

pytestmark = pytest.mark.django_db

URL = "/api/v1/invoices/one_off"


@pytest.fixture
def catalog():
    make_customer("acme")
    make_add_on("setup", "49.00")
    make_add_on("support-hour", "120.00")


def body(**overrides):
    return {
        "customer": "acme",
        "idempotency_key": "acme-2026-03-setup",
        "items": [
            {"add_on": "setup", "quantity": "2"},
            {
                "add_on": "support-hour",
                "quantity": "0.5",
                "unit_price": "99.99",
                "description": "Call",
            },
        ],
        **overrides,
    }


def test_creates_a_draft_then_answers_a_replay_with_the_same_invoice(authed_client, catalog):
    # when the request is sent, then retried with the same key
    first = authed_client.post(URL, body(), format="json")
    replay = authed_client.post(URL, body(), format="json")

    # then one invoice: 98.00 + 49.995 -> 50.00 (half-up), created once, returned twice
    assert (first.status_code, replay.status_code) == (201, 200)
    created = first.json()
    assert replay.json() == created
    assert (created["kind"], created["status"], created["subscription"]) == (
        "one_off",
        "draft",
        None,
    )
    assert (created["total"], created["currency"], created["number"]) == ("148.00", "USD", None)
    assert [(line["kind"], line["description"], line["amount"]) for line in created["lines"]] == [
        ("add_on", "Setup", "98.00"),
        ("add_on", "Call", "50.00"),
    ]
    assert (Invoice.objects.count(), InvoiceLine.objects.count()) == (1, 2)


def test_finalize_true_numbers_the_invoice_at_once(authed_client, catalog):
    response = authed_client.post(URL, body(finalize=True), format="json")

    assert response.status_code == 201
    assert (response.json()["status"], response.json()["number"]) == (
        "finalized",
        f"INV-{Invoice.objects.get().finalized_at:%Y}-000001",
    )


@pytest.mark.parametrize(
    ("_case", "overrides", "field"),
    [
        ("unknown customer", {"customer": "nobody"}, "customer"),
        (
            "unknown add-on",
            {"items": [{"add_on": "setup"}, {"add_on": "nothing-like-it"}]},
            "items[1].add_on",
        ),
    ],
)
def test_unknown_customer_or_add_on_is_a_404_naming_the_field(
    authed_client, catalog, _case, overrides, field
):
    response = authed_client.post(URL, body(**overrides), format="json")

    assert response.status_code == 404
    assert list(response.json()["error"]["fields"]) == [field]
    assert Invoice.objects.count() == 0


@pytest.mark.parametrize(
    ("_case", "overrides", "field"),
    [
        ("no items", {"items": []}, "items.__all__"),
        ("items not a list", {"items": "setup"}, "items.__all__"),
        ("zero quantity", {"items": [{"add_on": "setup", "quantity": "0"}]}, "items[0].quantity"),
        (
            "negative price",
            {"items": [{"add_on": "setup", "unit_price": "-1"}]},
            "items[0].unit_price",
        ),
        (
            "price not a number",
            {"items": [{"add_on": "setup", "unit_price": "NaN"}]},
            "items[0].unit_price",
        ),
        ("key missing", {"idempotency_key": None}, "idempotency_key"),
        ("customer a number", {"customer": 12}, "customer"),
        ("finalize not a boolean", {"finalize": "later"}, "finalize"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(authed_client, catalog, _case, overrides, field):
    response = authed_client.post(URL, body(**overrides), format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid", [field])
    assert Invoice.objects.count() == 0


def test_a_euro_add_on_beside_a_dollar_one_is_a_400_naming_items(authed_client, catalog):
    make_add_on("onboarding", "40.00", "EUR")
    items = [{"add_on": "setup"}, {"add_on": "onboarding"}]

    response = authed_client.post(URL, body(items=items), format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "currency_mismatch"
    assert list(response.json()["error"]["fields"]) == ["items"]


def test_the_same_key_with_another_body_is_a_409(authed_client, catalog):
    assert authed_client.post(URL, body(), format="json").status_code == 201

    response = authed_client.post(URL, body(items=[{"add_on": "setup"}]), format="json")

    assert response.status_code == 409
    assert list(response.json()["error"]["fields"]) == ["idempotency_key"]
    assert Invoice.objects.count() == 1


def test_a_key_without_invoices_write_is_refused(api_client, make_api_key, catalog):
    _, raw = make_api_key(scopes=["invoices:read"])
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    response = api_client.post(URL, body(), format="json")

    assert response.status_code == 403
    assert Invoice.objects.count() == 0


def test_the_schema_documents_every_status(authed_client):
    schema = authed_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/invoices/one_off"]["post"]
    assert operation["operationId"] == "invoices_one_off_create"
    assert {"200", "201", "400", "404", "409"} <= set(operation["responses"])
    subscription = schema["components"]["schemas"]["InvoiceOutput"]["properties"]["subscription"]
    assert subscription["nullable"] is True
