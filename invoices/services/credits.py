"""Credits and an invoice's life: a draft only reads the balances; finalization burns what the
frozen lines applied, voiding gives it back.

``invoice_credits_settle`` burns, per feature, the units the invoice's usage lines record as
covered by credits (``breakdown["credits"]``, written by ``invoices.credit_math``) through
``credits.services.credits_apply_to_usage``: the units burned in real time for the window count
first, the rest burns in burn order at the end of the window, as the lines were computed. The
ledger rows carry the key ``invoice:<id>:<feature id>:<grant id>``, so settling twice (finalize
retried, billing rerun) burns once, and ``invoice_credits_reverse`` (on void) gives back exactly
those rows.
"""

from decimal import Decimal
from typing import Any

from django.db import transaction

from credits.lock_objects import customer_credit_grants_lock
from credits.models import CreditGrant
from credits.services import (
    CreditApplication,
    credits_application_reverse,
    credits_apply_to_usage,
)
from invoices.models import Invoice, InvoiceLine
from invoices.selectors.credits import credits_at
from plans.models import Feature


def invoice_credits_key(invoice: Invoice) -> str:
    return str(invoice.pk)


def invoice_credits_lock(*, invoice: Invoice) -> None:
    """Lock the customer's grants before the invoice's last computation, so the balances it
    reads are the ones finalization burns."""
    list(customer_credit_grants_lock(customer_id=invoice.customer_id))


def invoice_credits_covered(*, invoice: Invoice) -> dict[int, Decimal]:
    """Units per feature that the invoice's usage lines record as covered by credits."""
    by_grant: dict[int, Decimal] = {}
    notes = InvoiceLine.objects.filter(
        invoice=invoice, kind=InvoiceLine.Kind.USAGE, breakdown__has_key="credits"
    ).values_list("breakdown", flat=True)
    for breakdown in notes:
        for note in breakdown["credits"]:
            grant_id = int(note["grant_id"])
            by_grant[grant_id] = by_grant.get(grant_id, Decimal(0)) + Decimal(note["units"])
    covered: dict[int, Decimal] = {}
    features = CreditGrant.objects.filter(pk__in=by_grant).values_list("pk", "feature_id")
    for grant_id, feature_id in features:
        covered[feature_id] = covered.get(feature_id, Decimal(0)) + by_grant[grant_id]
    return covered


@transaction.atomic
def invoice_credits_settle(*, invoice: Invoice) -> list[CreditApplication]:
    """Burn the credits the invoice applied (call it when it is finalized); idempotent on the
    invoice. A burn never takes more than a grant holds."""
    covered = invoice_credits_covered(invoice=invoice)
    if not covered:
        return []
    features = Feature.objects.in_bulk(list(covered))
    return [
        credits_apply_to_usage(
            customer=invoice.customer,
            feature=features[feature_id],
            quantity=units,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            invoice_key=invoice_credits_key(invoice),
            at=credits_at(invoice.period_end),
        )
        for feature_id, units in sorted(covered.items())
    ]


@transaction.atomic
def invoice_credits_reverse(*, invoice: Invoice, reason: str, actor: Any = None) -> Decimal:
    """Give back what settling the invoice burned (on void); idempotent. Returns the units."""
    return credits_application_reverse(
        invoice_key=invoice_credits_key(invoice), reason=reason, actor=actor
    )
