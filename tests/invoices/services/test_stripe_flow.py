"""Stripe end to end against a real localstripe: customer on first need, one PaymentIntent per
invoice however often the push runs, signed webhooks processed once."""

import hashlib
import hmac
import json
import time
from decimal import Decimal
from pathlib import Path

import pytest
import stripe
from django.conf import settings

from invoices.models import Invoice, InvoiceEvent, StripeCustomer, StripeWebhookEvent
from invoices.services import subscription_bill_due
from invoices.stripe_gateway import idempotency_key, to_minor_units
from invoices.stripe_services import (
    invoice_stripe_push,
    invoices_to_push_ids,
    stripe_customer_ensure,
)
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "stripe"
FEB_1 = utc(2026, 2, 1, 0, 5)


def client() -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key=settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE}
    )


def finalized_invoice() -> Invoice:
    subscription = subscribe(plan_version(), started_at=utc(2026, 1, 1))
    send_tokens("acme", 12000, at=utc(2026, 1, 10))
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total) == ("finalized", Decimal("169.00"))
    return invoice


def give_card(invoice: Invoice, number: str) -> None:
    stripe_id = stripe_customer_ensure(customer=invoice.customer)
    api = client()
    method = api.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    api.v1.payment_methods.attach(method.id, params={"customer": stripe_id})
    api.v1.customers.update(
        stripe_id, params={"invoice_settings": {"default_payment_method": method.id}}
    )


def payment_intents() -> list:
    return list(client().v1.payment_intents.list().data)


def signed(payload: bytes, secret: str | None = None, at: int | None = None) -> str:
    at = at or int(time.time())
    secret = secret or settings.STRIPE_WEBHOOK_SECRET
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def event_payload(name: str, **object_fields) -> bytes:
    event = json.loads((FIXTURES / f"{name}.json").read_text())
    event["data"]["object"].update(object_fields)
    return json.dumps(event).encode()


def post_webhook(api_client, payload: bytes, signature: str | None = None):
    return api_client.post(
        "/stripe/webhook",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature if signature is not None else signed(payload),
    )


def test_push_charges_the_card_once_however_often_it_is_retried(stripe_on):
    # given a finalized invoice of 169.00 and a customer whose card is on file
    invoice = finalized_invoice()
    give_card(invoice, "4242424242424242")
    assert invoices_to_push_ids() == [invoice.pk]

    # when the push runs three times (a retry after success, a duplicate task)
    for _ in range(3):
        invoice_stripe_push(invoice_id=invoice.pk)

    # then Stripe holds one succeeded PaymentIntent of 16900 cents for it
    (intent,) = payment_intents()
    assert (intent.amount, intent.currency, intent.status) == (16900, "usd", "succeeded")
    assert intent.metadata["invoice_id"] == str(invoice.pk)
    invoice.refresh_from_db()
    assert (invoice.stripe_payment_intent_id, invoice.payment_status) == (intent.id, "succeeded")
    assert invoices_to_push_ids() == []
    assert StripeCustomer.objects.filter(customer=invoice.customer).count() == 1
    assert InvoiceEvent.objects.filter(invoice=invoice, action="stripe.pushed").count() == 1


def test_a_declined_card_marks_the_payment_failed(stripe_on):
    invoice = finalized_invoice()
    give_card(invoice, "4000000000000341")  # attaches, then declines

    invoice_stripe_push(invoice_id=invoice.pk)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.payment_status) == ("finalized", "failed")
    assert invoice.stripe_error


def test_without_a_card_the_intent_waits_and_the_webhook_marks_the_invoice_paid_once(
    stripe_on, api_client
):
    # given an invoice pushed to a customer without a card: the intent waits
    invoice = finalized_invoice()
    invoice_stripe_push(invoice_id=invoice.pk)
    invoice.refresh_from_db()
    assert invoice.payment_status == "pending"

    # when Stripe reports the payment, and delivers the same event twice
    payload = event_payload(
        "payment_intent.succeeded",
        id=invoice.stripe_payment_intent_id,
        metadata={"invoice_id": str(invoice.pk), "invoice_number": invoice.number},
    )
    first = post_webhook(api_client, payload)
    second = post_webhook(api_client, payload)

    # then it is paid once, and the event was stored and processed once
    assert (first.status_code, first.json()["processed"]) == (200, True)
    assert (second.status_code, second.json()["processed"]) == (200, False)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.payment_status) == ("paid", "succeeded")
    assert invoice.events.filter(action="status.paid").count() == 1
    stored = StripeWebhookEvent.objects.get()
    assert (stored.type, stored.deliveries, stored.valid) == ("payment_intent.succeeded", 2, True)
    assert stored.processed_at is not None


def test_failed_and_refunded_events_update_the_payment_status(stripe_on, api_client):
    invoice = finalized_invoice()
    invoice.stripe_payment_intent_id = "pi_3QhXr2LkdIwHu7ix0cP1aZgX"
    invoice.save()

    failed = event_payload(
        "payment_intent.payment_failed", metadata={"invoice_id": str(invoice.pk)}
    )
    assert post_webhook(api_client, failed).status_code == 200
    invoice.refresh_from_db()
    assert invoice.payment_status == "failed"

    assert post_webhook(api_client, event_payload("charge.refunded")).status_code == 200
    invoice.refresh_from_db()
    assert invoice.payment_status == "refunded"


@pytest.mark.parametrize(
    ("_case", "signature"),
    [
        ("signed with another secret", "other"),
        ("garbage header", "t=1,v1=deadbeef"),
        ("old timestamp", "old"),
    ],
)
def test_a_bad_signature_is_refused_and_nothing_is_stored(stripe_on, api_client, _case, signature):
    payload = event_payload("payment_intent.succeeded")
    header = {
        "other": signed(payload, secret="whsec_other"),
        "old": signed(payload, at=int(time.time()) - 3600),
    }.get(signature, signature)

    response = post_webhook(api_client, payload, header)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_signature"
    assert StripeWebhookEvent.objects.count() == 0


def test_a_missing_signature_header_is_a_400(stripe_on, api_client):
    response = api_client.post("/stripe/webhook", data=b"{}", content_type="application/json")
    assert response.status_code == 400
    assert "Stripe-Signature" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (Decimal("169.00"), "USD", 16900),
        (Decimal("0.01"), "EUR", 1),
        (Decimal("1200"), "JPY", 1200),
        (Decimal("12.345"), "KWD", 12350),
    ],
)
def test_minor_units_follow_the_currency(amount, currency, minor):
    assert to_minor_units(amount, currency) == minor


def test_idempotency_keys_are_derived_from_our_ids():
    assert idempotency_key("invoice", 42, "payment_intent") == "invoice:42:payment_intent"


def test_a_handler_failure_is_recorded_and_the_redelivery_processes_it(
    stripe_on, api_client, monkeypatch
):
    # given a handler that fails once (a database hiccup, say)
    from invoices import webhooks

    invoice = finalized_invoice()
    calls = []
    real = webhooks.HANDLERS["payment_intent.succeeded"]

    def flaky(event):
        calls.append(event["id"])
        if len(calls) == 1:
            raise RuntimeError("database went away")
        real(event)

    monkeypatch.setitem(webhooks.HANDLERS, "payment_intent.succeeded", flaky)
    payload = event_payload("payment_intent.succeeded", metadata={"invoice_id": str(invoice.pk)})
    api_client.raise_request_exception = False

    # when Stripe delivers it, and delivers it again after the error
    first = post_webhook(api_client, payload)
    stored = StripeWebhookEvent.objects.get()
    assert (first.status_code, stored.processed_at) == (500, None)
    assert stored.exception == "RuntimeError: database went away"
    second = post_webhook(api_client, payload)

    # then the second delivery processed it, and the invoice was paid once
    assert (second.status_code, second.json()["processed"]) == (200, True)
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    stored.refresh_from_db()
    assert (stored.exception, stored.deliveries) == ("", 2)
