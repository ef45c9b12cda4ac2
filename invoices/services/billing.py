"""Billing one subscription for one period: compute the lines, store the draft, exactly once.

The unique key (subscription, period start, kind) makes ``invoice_create_for_period`` idempotent
under reruns, crashed workers and concurrent workers: callers hold the subscription's row lock,
and a racing insert that slips past it lands on the constraint and returns the winner's invoice.
"""

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from invoices.calculations import LineDraft, invoice_total
from invoices.models import Invoice, InvoiceKind, InvoiceLine
from invoices.selectors.lines import period_lines
from invoices.selectors.usage import UsageLookup
from invoices.transitions import invoice_drafted_write
from plans.models import Subscription


def line_rows(*, invoice: Invoice, lines: list[LineDraft]) -> list[InvoiceLine]:
    """The unsaved rows of the invoice's lines, numbered in order (also used by the batch path)."""
    return [
        InvoiceLine(
            invoice=invoice,
            position=position,
            kind=line.kind,
            description=line.description[:300],
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            amount_precise=line.amount_precise,
            amount=line.amount,
            breakdown=dict(line.breakdown),
            line_start=line.line_start,
            line_end=line.line_end,
            version_id=line.version_id,
            charge_id=line.charge_id,
            metric_code=line.metric_code,
            group_key=line.group_key,
            event_count=line.event_count,
            events_digest=line.events_digest,
            source_invoice_id=line.source_invoice_id,
        )
        for position, line in enumerate(lines, start=1)
    ]


def lines_save(*, invoice: Invoice, lines: list[LineDraft], replace: bool = True) -> None:
    """Replace the invoice's lines (``replace=False``: a new invoice has none) and set its total
    to their sum (the invoice is a draft; the caller saves the total)."""
    if replace:
        invoice.lines.all().delete()
    InvoiceLine.objects.bulk_create(line_rows(invoice=invoice, lines=lines))
    invoice.total = invoice_total(lines)


def invoice_create_for_period(
    *,
    subscription: Subscription,
    kind: str,
    period_start: datetime,
    period_end: datetime,
    now: datetime,
    billed_end: datetime | None = None,
    lookup: UsageLookup | None = None,
    actor: Any = None,
) -> tuple[Invoice, bool]:
    """The subscription's ``kind`` invoice for the period starting at ``period_start``: created
    as a draft (finalized at once when the version has no grace days), or the existing one with
    ``created=False``. Call it holding the subscription's row lock."""
    existing = Invoice.objects.filter(
        subscription=subscription, period_start=period_start, kind=kind
    ).first()
    if existing is not None:
        return existing, False
    lines = period_lines(
        subscription=subscription,
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        billed_end=billed_end,
        lookup=lookup or UsageLookup(),
        now=now,
    )
    version = subscription.version
    end = billed_end or period_end
    # An in-advance invoice is issued at the start of its period, a period invoice at its end.
    issued = period_start if kind == InvoiceKind.ADVANCE else end
    try:
        with transaction.atomic():
            invoice = Invoice.objects.create(
                customer=subscription.customer,
                subscription=subscription,
                version=version,
                kind=kind,
                currency=version.currency,
                period_start=period_start,
                period_end=end,
                nominal_period_end=period_end,
                issued_at=now,
                computed_at=now,
                total=invoice_total(lines),
                finalize_after=max(issued, period_start)
                + timedelta(days=version.invoice_grace_days),
            )
            lines_save(invoice=invoice, lines=lines, replace=False)
    except IntegrityError:
        winner = Invoice.objects.filter(
            subscription=subscription, period_start=period_start, kind=kind
        ).first()
        if winner is None:
            raise
        return winner, False
    invoice_drafted_write(
        invoice=invoice,
        actor=actor,
        lines=len(lines),
        changes={
            "subscription": subscription.external_id,
            "kind": kind,
            "period": [period_start, end],
        },
    )
    return invoice, True
