"""The one seam to Stripe: a ``stripe.StripeClient`` built per call from settings (pointed at
``STRIPE_API_BASE``, so tests and local runs reach localstripe), minor-unit conversion, and
deterministic idempotency keys.

We collect each finalized invoice with a PaymentIntent for its exact total (see README,
"Payments with Stripe"): our invoice, its number and its lines stay the record; Stripe moves the
money. Keys are derived from our ids (``invoice:42:payment_intent``), so a retry of the same
request, from any worker, is answered by Stripe with the first result instead of a second charge.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import stripe
from django.conf import settings

from billing_site.core.money import currency_exponent


def stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _client() -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        api_key=settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base} if base else {},
        max_network_retries=2,
    )


def to_minor_units(amount: Decimal, currency: str) -> int:
    """An amount in major units as Stripe's integer in minor units, aware of zero- and
    three-decimal currencies: 12.34 USD -> 1234, 1200 JPY -> 1200. Stripe wants three-decimal
    currencies' amounts to end in 0, so those are rounded to the tens of the minor unit."""
    exponent = currency_exponent(currency)
    minor = (amount.scaleb(exponent)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    if exponent == 3:
        minor = (minor / 10).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 10
    return int(minor)


def idempotency_key(*parts: object) -> str:
    return ":".join(str(part) for part in parts)


def customer_create(*, customer_pk: int, external_id: str, name: str, email: str) -> str:
    """Create the Stripe customer of one of ours; returns its Stripe id."""
    created = _client().v1.customers.create(
        params={
            "name": name or external_id,
            "email": email or None,
            "metadata": {"customer_external_id": external_id},
        },
        options={"idempotency_key": idempotency_key("customer", customer_pk, "create")},
    )
    return created.id


@dataclass(frozen=True)
class PaymentIntentResult:
    id: str
    status: str


def payment_intent_create(
    *,
    invoice_pk: int,
    number: str,
    amount: Decimal,
    currency: str,
    stripe_customer_id: str,
) -> PaymentIntentResult:
    """Ask Stripe to collect ``amount`` for the invoice. With the customer's default payment
    method on file, it is charged off-session at once; else the intent waits for one."""
    client = _client()
    customer = client.v1.customers.retrieve(stripe_customer_id).to_dict()
    payment_method = (customer.get("invoice_settings") or {}).get("default_payment_method")
    params: dict[str, Any] = {
        "amount": to_minor_units(amount, currency),
        "currency": currency.lower(),
        "customer": stripe_customer_id,
        "metadata": {"invoice_id": str(invoice_pk), "invoice_number": number},
    }
    if payment_method:
        params |= {"payment_method": payment_method, "confirm": True, "off_session": True}
    intent = client.v1.payment_intents.create(
        params=params,
        options={"idempotency_key": idempotency_key("invoice", invoice_pk, "payment_intent")},
    )
    return PaymentIntentResult(id=intent.id, status=intent.status)


def webhook_event_verify(payload: bytes, signature: str) -> dict[str, Any]:
    """The event, when ``signature`` (the Stripe-Signature header) signs ``payload`` with our
    webhook secret; raises ``stripe.SignatureVerificationError`` otherwise."""
    event = stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    return event.to_dict()
