"""An invoice's life after its draft: recompute, finalize (gapless number), pay, void.

Finalization takes the invoice's row lock and the number in the same transaction: the number
comes from an upsert on the prefix's sequence row, which stays locked until commit, so
concurrent finalizations queue on it and a rolled-back finalization gives its number back.
Numbers therefore run without gaps in the order finalizations commit.
"""

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from billing_site.core.exceptions import ConflictError
from invoices.advance.selectors import fee_invoice_lines
from invoices.models import Invoice, InvoiceEmailEvent, InvoiceKind, InvoiceStatus
from invoices.selectors.adjustments import coupon_and_tax_lines
from invoices.selectors.lines import period_lines
from invoices.selectors.usage import UsageLookup
from invoices.services.billing import lines_save
from invoices.services.coupons import applied_coupons_lock, coupons_redeem, coupons_restore
from invoices.services.credits import (
    invoice_credits_covered,
    invoice_credits_lock,
    invoice_credits_reverse,
    invoice_credits_settle,
)
from invoices.services.emails import invoice_email_schedule
from invoices.transitions import invoice_event_write, invoice_status_set

NUMBER_PREFIX = "INV"
ONE_OFF_NET_PAYMENT_DAYS = 30  # a one-off invoice has no plan version to take its terms from
_NUMBER_SQL = (
    "INSERT INTO invoices_invoicenumbersequence (prefix, last_value) VALUES (%s, 1) "
    "ON CONFLICT (prefix) DO UPDATE "
    "SET last_value = invoices_invoicenumbersequence.last_value + 1 RETURNING last_value"
)


def invoice_lock(invoice_id: int) -> Invoice:
    return (
        Invoice.objects.select_for_update(of=("self",))
        .select_related(
            "subscription__version__plan", "subscription__customer", "customer", "version"
        )
        .get(pk=invoice_id)
    )


def invoice_number_next(*, at: datetime) -> str:
    """The next number of the year of ``at``, e.g. ``INV-2026-000042``; call it inside the
    finalizing transaction."""
    prefix = f"{NUMBER_PREFIX}-{at:%Y}"
    with connection.cursor() as cursor:
        cursor.execute(_NUMBER_SQL, [prefix])
        (value,) = cursor.fetchone()
    return f"{prefix}-{value:06d}"


def _ensure_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise ConflictError(
            f"Invoice {invoice} is {invoice.status}; only drafts change.", code="not_draft"
        )


@transaction.atomic
def invoice_recompute(
    *,
    invoice: Invoice,
    actor: Any = None,
    now: datetime | None = None,
    lookup: UsageLookup | None = None,
) -> Invoice:
    """Compute a draft's lines again (late events, a changed override); audited when the total
    moves."""
    invoice = invoice_lock(invoice.pk)
    _ensure_draft(invoice)
    if invoice.kind == InvoiceKind.ONE_OFF:
        return invoice  # its lines were set by staff, not computed from usage
    now = now or timezone.now()
    before = invoice.total
    if invoice.kind == InvoiceKind.FEES:  # its lines are the pay-in-advance fees grouped on it
        lines = fee_invoice_lines(invoice_id=invoice.pk)
        lines += coupon_and_tax_lines(
            customer=invoice.customer, currency=invoice.currency, lines=lines
        )
    else:
        lines = period_lines(
            subscription=invoice.subscription,
            kind=invoice.kind,
            period_start=invoice.period_start,
            period_end=invoice.nominal_period_end,
            billed_end=invoice.period_end,
            lookup=lookup or UsageLookup(),
            exclude_invoice_id=invoice.pk,
            now=now,
        )
    lines_save(invoice=invoice, lines=lines)
    invoice.computed_at = now
    invoice.save(update_fields=["total", "computed_at", "updated_at"])
    invoice_event_write(
        invoice=invoice,
        action="recomputed",
        actor=actor,
        details={"total": [before, invoice.total], "lines": len(lines)},
    )
    return invoice


def _stripe_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


@transaction.atomic(savepoint=False)  # see invoice_status_set
def invoice_finalize(
    *, invoice: Invoice, actor: Any = None, now: datetime | None = None, recompute: bool = True
) -> Invoice:
    """Freeze a draft: recompute it one last time (late events of the grace period count) with
    the customer's credit grants locked, burn the credits its lines apply, give it the next
    number, set its due date; an invoice of zero is marked paid at once. With Stripe
    configured, the payment is pushed after commit."""
    now = now or timezone.now()
    invoice_credits_lock(invoice=invoice)
    coupons_changed = applied_coupons_lock(invoice=invoice)
    # Lines that apply credits are recomputed under the grants' lock even when asked not to, so
    # what they apply is exactly what settling burns; the same for coupons redeemed meanwhile.
    if recompute or coupons_changed or invoice_credits_covered(invoice=invoice):
        invoice = invoice_recompute(invoice=invoice, actor=actor, now=now)
    invoice = invoice_lock(invoice.pk)
    _ensure_draft(invoice)
    invoice_credits_settle(invoice=invoice)
    invoice.number = invoice_number_next(at=now)
    days = invoice.version.net_payment_days if invoice.version else ONE_OFF_NET_PAYMENT_DAYS
    invoice.due_at = now + timedelta(days=days)
    invoice_status_set(
        invoice=invoice,
        to=InvoiceStatus.FINALIZED,
        actor=actor,
        at=now,
        details={"number": invoice.number},
        also_save=("number", "due_at"),
    )
    coupons_redeem(invoice=invoice, now=now)
    if invoice.total <= Decimal(0):
        invoice_status_set(
            invoice=invoice,
            to=InvoiceStatus.PAID,
            actor=actor,
            at=now,
            reason="Nothing to pay.",
        )
    elif _stripe_configured():
        from invoices.tasks import invoices_stripe_push_task

        invoice_id = invoice.pk
        transaction.on_commit(lambda: invoices_stripe_push_task.delay(invoice_id))
    invoice_email_schedule(invoice=invoice, event=InvoiceEmailEvent.FINALIZED, actor=actor)
    return invoice


@transaction.atomic
def invoice_mark_paid(
    *, invoice: Invoice, actor: Any = None, reason: str = "", paid_at: datetime | None = None
) -> Invoice:
    """Record a payment received outside Stripe (or confirmed by it)."""
    invoice = invoice_lock(invoice.pk)
    if invoice.status == InvoiceStatus.PAID:
        return invoice
    invoice_status_set(
        invoice=invoice, to=InvoiceStatus.PAID, actor=actor, reason=reason, at=paid_at
    )
    invoice_email_schedule(invoice=invoice, event=InvoiceEmailEvent.PAID, actor=actor)
    return invoice


@transaction.atomic
def invoice_void(*, invoice: Invoice, actor: Any = None, reason: str) -> Invoice:
    """Void a finalized invoice: it stays, numbered, with its lines, and is owed no more; the
    credits its finalization burned are given back. Its period is not billed again; usage it
    billed stays billed (a later adjustment compares with the invoices that are not void)."""
    if not reason.strip():
        raise ConflictError("Give a reason to void an invoice.", code="reason_required")
    invoice = invoice_lock(invoice.pk)
    invoice = invoice_status_set(invoice=invoice, to=InvoiceStatus.VOID, actor=actor, reason=reason)
    coupons_restore(invoice=invoice, actor=actor)
    invoice_credits_reverse(invoice=invoice, reason=reason, actor=actor)
    return invoice


@transaction.atomic
def invoice_mark_uncollectible(*, invoice: Invoice, actor: Any = None, reason: str) -> Invoice:
    invoice = invoice_lock(invoice.pk)
    return invoice_status_set(
        invoice=invoice, to=InvoiceStatus.UNCOLLECTIBLE, actor=actor, reason=reason
    )
