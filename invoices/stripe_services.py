"""Pushing finalized invoices to Stripe, once.

``invoice_stripe_push`` holds the invoice's row lock across the Stripe call: a second worker
pushing the same invoice waits, then finds the PaymentIntent recorded and does nothing. A crash
between Stripe's answer and our commit is covered by the deterministic idempotency key: the
retry gets the same PaymentIntent back from Stripe instead of a second charge.
"""

from typing import Any

import stripe
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from invoices import stripe_gateway
from invoices.models import Invoice, InvoiceStatus, PaymentStatus, StripeCustomer
from invoices.transitions import invoice_event_write
from plans.models import Customer

_STATUS = {
    "succeeded": PaymentStatus.SUCCEEDED,
    "processing": PaymentStatus.PENDING,
    "requires_payment_method": PaymentStatus.PENDING,
    "requires_confirmation": PaymentStatus.PENDING,
    "requires_action": PaymentStatus.PENDING,
}


@transaction.atomic
def stripe_customer_ensure(*, customer: Customer) -> str:
    """The customer's Stripe id, creating the Stripe customer the first time it is needed."""
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    existing = StripeCustomer.objects.filter(customer=customer).first()
    if existing is not None:
        return existing.stripe_id
    stripe_id = stripe_gateway.customer_create(
        customer_pk=customer.pk,
        external_id=customer.external_id,
        name=customer.name,
        email=customer.email,
    )
    StripeCustomer.objects.create(customer=customer, stripe_id=stripe_id)
    return stripe_id


def invoices_to_push_ids() -> list[int]:
    """Finalized invoices with an amount due that have no PaymentIntent yet."""
    return list(
        Invoice.objects.filter(
            Q(status=InvoiceStatus.FINALIZED) & Q(total__gt=0) & Q(stripe_payment_intent_id="")
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def invoice_stripe_push(*, invoice_id: int, actor: Any = None) -> Invoice:
    """Create the invoice's PaymentIntent unless it has one; a failure is recorded on the
    invoice (and retried by the beat task), a declined card marks the payment failed."""
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=invoice_id)
    )
    if invoice.stripe_payment_intent_id or invoice.status != InvoiceStatus.FINALIZED:
        return invoice
    if invoice.total <= 0:
        return invoice
    details: dict[str, Any]
    try:
        stripe_customer = stripe_customer_ensure(customer=invoice.customer)
        result = stripe_gateway.payment_intent_create(
            invoice_pk=invoice.pk,
            number=invoice.number or "",
            amount=invoice.total,
            currency=invoice.currency,
            stripe_customer_id=stripe_customer,
        )
    except stripe.CardError as error:
        intent = (error.json_body or {}).get("error", {}).get("payment_intent") or {}
        invoice.stripe_payment_intent_id = intent.get("id", "")
        invoice.payment_status = PaymentStatus.FAILED
        invoice.stripe_error = str(error.user_message or error)[:1000]
        details = {"error": invoice.stripe_error}
    except stripe.StripeError as error:
        invoice.stripe_error = f"{type(error).__name__}: {error}"[:1000]
        invoice.save(update_fields=["stripe_error", "updated_at"])
        invoice_event_write(
            invoice=invoice, action="stripe.push_failed", actor=actor, details={"error": str(error)}
        )
        return invoice
    else:
        invoice.stripe_payment_intent_id = result.id
        invoice.payment_status = _STATUS.get(result.status, PaymentStatus.PENDING)
        invoice.stripe_error = ""
        details = {"payment_intent": result.id, "status": result.status}
    invoice.stripe_pushed_at = timezone.now()
    invoice.save(
        update_fields=[
            "stripe_payment_intent_id",
            "payment_status",
            "stripe_error",
            "stripe_pushed_at",
            "updated_at",
        ]
    )
    invoice_event_write(invoice=invoice, action="stripe.pushed", actor=actor, details=details)
    return invoice
