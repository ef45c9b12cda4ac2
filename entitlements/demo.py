"""Demo data of entitlements: customers near and over their limits, through the consume path
(so usage events, credit burns and alerts are real): initech at 85% of Starter's 1,000 calls,
initrode with 9,500 of its 10,000 lifetime credits spent, and soylent on the Trial plan at its
100 calls for today. Transaction ids are fixed, so running it again replays the same answers.
"""

from decimal import Decimal
from typing import TextIO

from billing_site.core.models import WebhookEndpoint
from entitlements.services import MAX_COUNT_EVENTS, entitlement_consume
from plans.models import Customer, Plan
from plans.services import customer_create, subscription_create

CONSUMES = (
    ("initech", "demo-initech-1", Decimal(850)),
    ("initrode", "demo-initrode-1", Decimal(9_500)),
    ("soylent", "demo-soylent-today", Decimal(100)),
)


def load(stdout: TextIO) -> None:
    trial = Plan.objects.filter(code="trial").first()
    if trial is not None:
        soylent, _ = customer_create(
            external_id="soylent", name="Soylent", email="ops@soylent.example"
        )
        subscription_create(customer=soylent, plan=trial, external_id="soylent-trial")
    for external_id, transaction_id, quantity in CONSUMES:
        customer = Customer.objects.filter(external_id=external_id).first()
        if customer is None:
            continue
        # A consume of a count metric records one event per unit, at most 1,000 at a time.
        left, part = quantity, 0
        while left > 0:
            part += 1
            step = min(left, MAX_COUNT_EVENTS)
            outcome = entitlement_consume(
                customer=customer,
                feature="api_calls",
                quantity=step,
                transaction_id=f"{transaction_id}-{part}",
            )
            left -= step
        if not outcome.replayed:
            stdout.write(f"{external_id}: consumed {quantity} api_calls.\n")
    if not WebhookEndpoint.objects.exists():
        WebhookEndpoint.objects.create(
            url="http://127.0.0.1:9/usage-alerts",
            description="Demo receiver (nothing listens: see the retries in the delivery log)",
            secret="whsec_demo_only",
            event_types=["usage.threshold_reached"],
            active=False,
        )
