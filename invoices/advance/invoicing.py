"""Grouping pay-in-advance fees onto invoices: one fee invoice per subscription per run.

The invoice key (subscription, period start, kind) bills one period once; fee invoices come
several per billing period, so a fee invoice's "period" is the window of the run that grouped
it: from the end of the subscription's previous fee invoice (for the first one, the start of
the billing period of its earliest fee) to the run's time. Windows of one subscription follow
each other without overlap, so each run's invoice has its own key; a rerun at the same time
finds no fee left to group, and two racing runs queue on the subscription's row lock, the
second finding the fees taken (or, at the same instant, the first one's invoice under the
key). Each line keeps the subscription period its fee belongs to. The customer has one live
subscription, so this is one invoice per customer and run.

A fee invoice then lives like any other: a draft during the version's grace days (finalized at
once without them), numbered at finalization, paid, void or uncollectible.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from invoices.advance.models import AdvanceFee
from invoices.advance.selectors import fee_line, subscriptions_with_open_fees_ids
from invoices.calculations import invoice_total
from invoices.models import Invoice, InvoiceKind
from invoices.selectors.adjustments import coupon_and_tax_lines
from invoices.services.billing import lines_save
from invoices.services.lifecycle import invoice_finalize
from invoices.transitions import invoice_drafted_write
from plans.models import Subscription


@transaction.atomic
def subscription_fees_invoice(
    *, subscription_id: int, now: datetime | None = None, actor: Any = None
) -> Invoice | None:
    """Group the subscription's fees not yet invoiced onto a new fee invoice; None when there
    are none (or the window since its last fee invoice is empty at ``now``)."""
    now = now or timezone.now()
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("version", "customer")
        .get(pk=subscription_id)
    )
    fees = list(
        AdvanceFee.objects.select_for_update()
        .filter(subscription=subscription, invoice__isnull=True)
        .select_related("charge")
        .order_by("event_id", "pk")
    )
    if not fees:
        return None
    previous = (
        Invoice.objects.filter(subscription=subscription, kind=InvoiceKind.FEES)
        .order_by("-period_end")
        .first()
    )
    start = previous.period_end if previous else min(fee.period_start for fee in fees)
    if now <= start:
        return None
    lines = [fee_line(fee) for fee in fees]
    # Taxes (and coupons) apply to fee invoices as to any other.
    lines += coupon_and_tax_lines(
        customer=subscription.customer, currency=fees[0].currency, lines=lines
    )
    version = subscription.version
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                customer=subscription.customer,
                subscription=subscription,
                version=version,
                kind=InvoiceKind.FEES,
                currency=fees[0].currency,
                period_start=start,
                period_end=now,
                nominal_period_end=now,
                issued_at=now,
                computed_at=now,
                total=invoice_total(lines),
                finalize_after=now + timedelta(days=version.invoice_grace_days),
            )
    except IntegrityError:
        return None  # a racing run made this window's invoice
    lines_save(invoice=invoice, lines=lines, replace=False)
    AdvanceFee.objects.filter(pk__in=[fee.pk for fee in fees]).update(invoice=invoice)
    invoice.save(update_fields=["total", "updated_at"])
    invoice_drafted_write(
        invoice=invoice,
        actor=actor,
        lines=len(lines),
        changes={
            "subscription": subscription.external_id,
            "kind": InvoiceKind.FEES,
            "period": [start, now],
            "fees": len(fees),
        },
    )
    if invoice.finalize_after <= now:
        invoice_finalize(invoice=invoice, actor=actor, now=now, recompute=False)
    return invoice


def fee_invoices_create(*, now: datetime | None = None) -> list[Invoice]:
    """A fee invoice for every subscription with fees not yet invoiced, each in its own
    transaction."""
    now = now or timezone.now()
    made = []
    for subscription_id in subscriptions_with_open_fees_ids():
        invoice = subscription_fees_invoice(subscription_id=subscription_id, now=now)
        if invoice is not None:
            made.append(invoice)
    return made
