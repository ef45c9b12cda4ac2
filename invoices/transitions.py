"""The invoice status map and the one function that moves an invoice through it.

    draft -> finalized -> paid | void | uncollectible;  uncollectible -> paid | void

Every move writes an ``InvoiceEvent`` (and an audit row: status changes move money) in the
caller's transaction, with the actor; a move outside the map is refused.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing_site.core.audit import actor_label, actor_user, audit_log_write, jsonable
from billing_site.core.exceptions import ConflictError
from invoices.models import Invoice, InvoiceEvent, InvoiceStatus

S = InvoiceStatus
INVOICE_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.FINALIZED}),
    S.FINALIZED: frozenset({S.PAID, S.VOID, S.UNCOLLECTIBLE}),
    S.UNCOLLECTIBLE: frozenset({S.PAID, S.VOID}),
    S.PAID: frozenset(),
    S.VOID: frozenset(),
}
_STAMPS = {S.FINALIZED: "finalized_at", S.PAID: "paid_at", S.VOID: "voided_at"}


def invoice_event_write(
    *,
    invoice: Invoice,
    action: str,
    actor: Any,
    details: dict[str, Any] | None = None,
    reason: str = "",
    from_status: str = "",
    to_status: str = "",
) -> InvoiceEvent:
    return InvoiceEvent.objects.create(
        invoice=invoice,
        action=action,
        from_status=from_status,
        to_status=to_status,
        actor=actor_user(actor),
        actor_label=actor_label(actor)[:150],
        details=jsonable(details or {}),
        reason=reason,
    )


def invoice_drafted_write(
    *,
    invoice: Invoice,
    actor: Any,
    lines: int,
    changes: dict[str, Any],
    details: dict[str, Any] | None = None,
) -> None:
    """A new draft's "created" event and its "invoice.drafted" audit row, both with its total:
    every way an invoice is made (a period, pay-in-advance fees, a one-off) records the same."""
    invoice_event_write(
        invoice=invoice,
        action="created",
        actor=actor,
        details={"lines": lines, "total": invoice.total, **(details or {})},
        to_status=InvoiceStatus.DRAFT,
    )
    audit_log_write(
        actor=actor,
        action="invoice.drafted",
        obj=invoice,
        changes={**changes, "total": invoice.total},
    )


# No savepoint: a refused move raises before writing, and any later error aborts the caller's
# transaction anyway; the billing run saves two round trips per invoice.
@transaction.atomic(savepoint=False)
def invoice_status_set(
    *,
    invoice: Invoice,
    to: str,
    actor: Any,
    reason: str = "",
    at: datetime | None = None,
    details: dict[str, Any] | None = None,
    also_save: tuple[str, ...] = (),
) -> Invoice:
    """Move a (locked) invoice to ``to``; ConflictError when the map does not allow it.
    ``also_save`` names fields the caller set that must change in the same row update (the
    number, which exists exactly when the invoice is finalized)."""
    current = invoice.status
    if to not in INVOICE_TRANSITIONS[current]:
        allowed = ", ".join(sorted(INVOICE_TRANSITIONS[current])) or "nothing"
        raise ConflictError(
            f"Invoice {invoice} is {current}; it can move to {allowed}, not {to}.",
            code="invalid_transition",
        )
    at = at or timezone.now()
    invoice.status = to
    fields = ["status", "updated_at", *also_save]
    if to in _STAMPS:
        setattr(invoice, _STAMPS[to], at)
        fields.append(_STAMPS[to])
    invoice.save(update_fields=fields)
    invoice_event_write(
        invoice=invoice,
        action=f"status.{to}",
        actor=actor,
        details=details,
        reason=reason,
        from_status=current,
        to_status=to,
    )
    audit_log_write(
        actor=actor,
        action=f"invoice.{to}",
        obj=invoice,
        changes={"status": [current, to], "total": invoice.total, **(details or {})},
        reason=reason,
    )
    return invoice
