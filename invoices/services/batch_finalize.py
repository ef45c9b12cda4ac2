"""Finalizing the fresh drafts of a billing batch at once (versions without grace days).

The same moves as ``invoice_finalize(recompute=False)`` for each draft, in a few statements: the
numbers come from one upsert on the year's sequence row, which takes ``count`` numbers and stays
locked until commit, so numbering stays gapless and in commit order, as one by one.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from billing_site.core.audit import actor_label, actor_user, jsonable
from billing_site.core.audit_bulk import AuditRecord, audit_log_write_many
from billing_site.core.bulk_update import rows_update
from invoices.models import Invoice, InvoiceEvent, InvoiceStatus
from invoices.services.lifecycle import NUMBER_PREFIX

_NUMBERS_SQL = (
    "INSERT INTO invoices_invoicenumbersequence (prefix, last_value) VALUES (%s, %s) "
    "ON CONFLICT (prefix) DO UPDATE "
    "SET last_value = invoices_invoicenumbersequence.last_value + EXCLUDED.last_value "
    "RETURNING last_value"
)
_NOTHING_TO_PAY = "Nothing to pay."


def invoice_numbers_next(*, at: datetime, count: int) -> list[str]:
    """The next ``count`` numbers of the year of ``at``, in order; call it inside the finalizing
    transaction."""
    if count <= 0:
        return []
    prefix = f"{NUMBER_PREFIX}-{at:%Y}"
    with connection.cursor() as cursor:
        cursor.execute(_NUMBERS_SQL, [prefix, count])
        (last,) = cursor.fetchone()
    return [f"{prefix}-{value:06d}" for value in range(last - count + 1, last + 1)]


def _event(invoice: Invoice, actor: Any, **fields: Any) -> InvoiceEvent:
    return InvoiceEvent(
        invoice=invoice,
        actor=actor_user(actor),
        actor_label=actor_label(actor)[:150],
        **fields,
    )


# No savepoint: the batch path calls it inside its transaction, which any error aborts.
@transaction.atomic(savepoint=False)
def invoices_finalize_many(
    *, invoices: Sequence[Invoice], now: datetime, actor: Any = None
) -> list[Invoice]:
    """Finalize fresh drafts (their version loaded) in the order given: number, due date,
    status events and audit rows; a draft of zero is marked paid at once; with Stripe
    configured, the others are pushed after commit."""
    drafts = [invoice for invoice in invoices if invoice.status == InvoiceStatus.DRAFT]
    numbers = invoice_numbers_next(at=now, count=len(drafts))
    events: list[InvoiceEvent] = []
    records: list[AuditRecord] = []
    push: list[int] = []
    for invoice, number in zip(drafts, numbers, strict=True):
        invoice.number = number
        invoice.due_at = now + timedelta(days=invoice.version.net_payment_days)
        invoice.status = InvoiceStatus.FINALIZED
        invoice.finalized_at = now
        invoice.updated_at = timezone.now()
        details = {"number": number}
        events.append(
            _event(
                invoice,
                actor,
                action=f"status.{InvoiceStatus.FINALIZED}",
                from_status=InvoiceStatus.DRAFT,
                to_status=InvoiceStatus.FINALIZED,
                details=jsonable(details),
            )
        )
        records.append(
            AuditRecord(
                actor=actor,
                action=f"invoice.{InvoiceStatus.FINALIZED}",
                obj=invoice,
                changes={
                    "status": [InvoiceStatus.DRAFT, InvoiceStatus.FINALIZED],
                    "total": invoice.total,
                    **details,
                },
            )
        )
        if invoice.total <= Decimal(0):
            invoice.status = InvoiceStatus.PAID
            invoice.paid_at = now
            events.append(
                _event(
                    invoice,
                    actor,
                    action=f"status.{InvoiceStatus.PAID}",
                    from_status=InvoiceStatus.FINALIZED,
                    to_status=InvoiceStatus.PAID,
                    details={},
                    reason=_NOTHING_TO_PAY,
                )
            )
            records.append(
                AuditRecord(
                    actor=actor,
                    action=f"invoice.{InvoiceStatus.PAID}",
                    obj=invoice,
                    changes={
                        "status": [InvoiceStatus.FINALIZED, InvoiceStatus.PAID],
                        "total": invoice.total,
                    },
                    reason=_NOTHING_TO_PAY,
                )
            )
        else:
            push.append(invoice.pk)
    if not drafts:
        return []
    rows_update(drafts, ["number", "due_at", "status", "finalized_at", "paid_at", "updated_at"])
    InvoiceEvent.objects.bulk_create(events)
    audit_log_write_many(records)
    if push and settings.STRIPE_SECRET_KEY:
        from invoices.tasks import invoices_stripe_push_task

        transaction.on_commit(lambda: [invoices_stripe_push_task.delay(pk) for pk in push])
    return list(drafts)
