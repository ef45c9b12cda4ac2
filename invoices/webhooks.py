"""Stripe webhooks: verified, stored before processing, processed once.

A delivery is verified against ``STRIPE_WEBHOOK_SECRET`` (nothing is stored for a bad
signature), stored as a ``StripeWebhookEvent`` in its own commit, then processed under that
row's lock through the ``HANDLERS`` map; a repeated delivery of a processed event only counts
the delivery. A handler failure is recorded on the row and re-raised, so Stripe delivers again.
"""

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from billing_site.core.exceptions import ApplicationError
from invoices import stripe_gateway
from invoices.models import Invoice, InvoiceStatus, PaymentStatus, StripeWebhookEvent
from invoices.services.lifecycle import invoice_lock, invoice_mark_paid
from invoices.transitions import invoice_event_write

STRIPE_ACTOR = "stripe"


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    processed: bool  # False: an earlier delivery processed it
    handled: bool  # False: a type we do not act on


def _invoice_for(payment_intent: dict[str, Any]) -> Invoice | None:
    invoice_id = (payment_intent.get("metadata") or {}).get("invoice_id")
    invoices = Invoice.objects.all()
    if invoice_id and str(invoice_id).isdigit():
        found = invoices.filter(pk=int(invoice_id)).first()
        if found is not None:
            return found
    return invoices.filter(stripe_payment_intent_id=payment_intent.get("id", "")).first()


def _payment_status_set(invoice: Invoice, status: str, event: dict[str, Any]) -> Invoice:
    invoice = invoice_lock(invoice.pk)
    invoice.payment_status = status
    invoice.save(update_fields=["payment_status", "updated_at"])
    invoice_event_write(
        invoice=invoice,
        action=f"stripe.{event['type']}",
        actor=STRIPE_ACTOR,
        details={"event": event["id"], "payment_status": status},
    )
    return invoice


def _payment_succeeded(event: dict[str, Any]) -> None:
    intent = event["data"]["object"]
    invoice = _invoice_for(intent)
    if invoice is None:
        return
    invoice = _payment_status_set(invoice, PaymentStatus.SUCCEEDED, event)
    if invoice.status in (InvoiceStatus.FINALIZED, InvoiceStatus.UNCOLLECTIBLE):
        invoice_mark_paid(invoice=invoice, actor=STRIPE_ACTOR, reason=f"Stripe {intent['id']}")


def _payment_failed(event: dict[str, Any]) -> None:
    invoice = _invoice_for(event["data"]["object"])
    if invoice is not None and invoice.status != InvoiceStatus.PAID:
        _payment_status_set(invoice, PaymentStatus.FAILED, event)


def _charge_refunded(event: dict[str, Any]) -> None:
    charge = event["data"]["object"]
    intent_id = charge.get("payment_intent") or ""
    invoice = (
        Invoice.objects.filter(stripe_payment_intent_id=intent_id).first() if intent_id else None
    )
    if invoice is not None and charge.get("refunded"):
        _payment_status_set(invoice, PaymentStatus.REFUNDED, event)


HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "payment_intent.succeeded": _payment_succeeded,
    "payment_intent.payment_failed": _payment_failed,
    "charge.refunded": _charge_refunded,
}


def stripe_webhook_receive(
    *, payload: bytes, signature: str, headers: dict[str, str]
) -> WebhookOutcome:
    try:
        event = stripe_gateway.webhook_event_verify(payload, signature)
    except Exception as error:  # stripe.SignatureVerificationError or a malformed body
        raise ApplicationError(
            "The Stripe signature does not match the payload.",
            code="bad_signature",
            fields={"Stripe-Signature": [str(error)[:200]]},
        ) from None
    row, created = StripeWebhookEvent.objects.get_or_create(
        stripe_id=event["id"],
        defaults={"type": event.get("type", ""), "body": event, "headers": headers, "valid": True},
    )
    if not created:
        StripeWebhookEvent.objects.filter(pk=row.pk).update(deliveries=F("deliveries") + 1)
    failure: Exception | None = None
    with transaction.atomic():
        row = StripeWebhookEvent.objects.select_for_update().get(pk=row.pk)
        if row.processed_at is not None:
            return WebhookOutcome(event["id"], processed=False, handled=True)
        handler = HANDLERS.get(row.type)
        try:
            with transaction.atomic():
                if handler is not None:
                    handler(row.body)
        except Exception as error:  # recorded on the row, then raised after its commit
            row.exception = f"{type(error).__name__}: {error}"[:500]
            row.traceback = traceback.format_exc()
            row.save(update_fields=["exception", "traceback"])
            failure = error
        else:
            row.processed_at = timezone.now()
            row.exception, row.traceback = "", ""
            row.save(update_fields=["processed_at", "exception", "traceback"])
    if failure is not None:
        raise failure
    return WebhookOutcome(event["id"], processed=True, handled=handler is not None)
