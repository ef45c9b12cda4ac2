"""The batch billing path: the plain subscriptions of a billing batch billed together, in one
transaction and a fixed number of statements whatever the batch size.

A subscription is billed here when its pricing is its version's alone (``lookup.plain``: no
override, scheduled change or plan change), it is live, exactly one period has ended, the period
does not end with a cancellation, and its version bills no base fee in advance. Its lines come
from ``period_lines``, the function the one-by-one path uses, over the usage the batch
prefetched. Then, in bulk: the invoices (INSERT ... ON CONFLICT DO NOTHING on the unique key
(subscription, period start, kind), so the key decides under reruns and racing workers), their
lines, events and audit rows, the period advance of the subscriptions actually billed, and the
finalization of the drafts that have no grace days (one by one through ``invoice_finalize`` for
customers holding credit grants, so that settling credits stays in one place).

Whatever is not billed here (not plain, not due any more, lost to a racing worker) is left to
the caller's one-by-one path, ``subscription_bill_due``, which handles every case.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import AutoField
from django.db.models.constants import OnConflict
from django.db.models.sql.subqueries import InsertQuery

from billing_site.core.audit import actor_label, actor_user, jsonable
from billing_site.core.audit_bulk import AuditRecord, audit_log_write_many
from invoices.calculations import LineDraft, invoice_total
from invoices.models import (
    Invoice,
    InvoiceEmailEvent,
    InvoiceEvent,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
)
from invoices.selectors.adjustments import coupon_customers_ids
from invoices.selectors.credits import customers_with_credits_ids
from invoices.selectors.lines import period_lines
from invoices.selectors.usage import UsageLookup
from invoices.services.batch_finalize import invoices_finalize_many
from invoices.services.billing import line_rows
from invoices.services.emails import invoice_email_schedule
from invoices.services.lifecycle import invoice_finalize
from plans.models import Subscription
from plans.services.periods import (
    next_period,
    period_advance_is_plain,
    subscriptions_period_advance_many,
)


@dataclass(frozen=True)
class BatchBilled:
    """What the batch path did: the subscriptions it billed and the invoices it created."""

    subscription_ids: frozenset[int]
    invoices: tuple[Invoice, ...]


NOTHING_BILLED = BatchBilled(frozenset(), ())


def batch_billable(subscription: Subscription, *, now: datetime) -> bool:
    """Whether the (locked, plain) subscription's due billing is exactly one period invoice and
    one plain period advance."""
    return (
        period_advance_is_plain(subscription, now=now)
        and not subscription.version.base_fee_in_advance
        and next_period(subscription)[1] > now
    )


def _invoices_insert(invoices: list[Invoice]) -> dict[int, int]:
    """INSERT the invoices, skipping any whose (subscription, period start, kind) exists; the
    ids of those inserted, by subscription id (one statement)."""
    if not invoices:
        return {}
    meta = Invoice._meta
    fields = [field for field in meta.concrete_fields if not isinstance(field, AutoField)]
    query = InsertQuery(Invoice, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, invoices)
    compiler = query.get_compiler(connection=connection)
    compiler.returning_fields = [meta.pk, meta.get_field("subscription")]
    ((sql, params),) = compiler.as_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {subscription_id: pk for pk, subscription_id in cursor.fetchall()}


def _draft(subscription: Subscription, lines: list[LineDraft], now: datetime) -> Invoice:
    """The unsaved period invoice, as ``invoice_create_for_period`` makes it."""
    version = subscription.version
    start, end = subscription.current_period_start, subscription.current_period_end
    return Invoice(
        customer=subscription.customer,
        subscription=subscription,
        version=version,
        kind=InvoiceKind.PERIOD,
        currency=version.currency,
        period_start=start,
        period_end=end,
        nominal_period_end=end,
        issued_at=now,
        computed_at=now,
        total=invoice_total(lines),
        finalize_after=end + timedelta(days=version.invoice_grace_days),
    )


def _finalize_due(
    invoices: list[Invoice], *, lookup: UsageLookup, now: datetime, actor: Any
) -> None:
    """Finalize the drafts without grace days: in bulk, except those of customers whose
    finalization does more than number and date the invoice (holding credit grants, whose
    covered units are settled, or coupons, which are redeemed): those go through
    ``invoice_finalize`` itself, so that each rule stays in one place. The bulk ones record their
    "finalized" e-mail as ``invoice_finalize`` does. Who holds what comes from the reads the
    batch's lines were computed from (``lookup``)."""
    due = [invoice for invoice in invoices if invoice.finalize_after <= now]
    if not due:
        return
    customer_ids = {invoice.customer_id for invoice in due}
    if lookup.credit_customers is None:
        lookup.credit_customers = customers_with_credits_ids(
            subscription_ids=[invoice.subscription_id for invoice in due]
        )
    if lookup.coupon_customers is None:
        lookup.coupon_customers = coupon_customers_ids(customer_ids=customer_ids)
    one_by_one = lookup.credit_customers | lookup.coupon_customers
    finalized = invoices_finalize_many(
        invoices=[invoice for invoice in due if invoice.customer_id not in one_by_one],
        now=now,
        actor=actor,
    )
    for invoice in finalized:
        if invoice.customer.email:
            invoice_email_schedule(invoice=invoice, event=InvoiceEmailEvent.FINALIZED, actor=actor)
    for invoice in due:
        if invoice.customer_id in one_by_one:
            invoice_finalize(invoice=invoice, actor=actor, now=now, recompute=False)


@transaction.atomic
def subscriptions_bill_plain(
    *,
    subscription_ids: Sequence[int],
    lookup: UsageLookup,
    now: datetime,
    actor: Any = None,
) -> BatchBilled:
    """Bill the batch-billable ones of the subscriptions (see the module docstring) in one
    transaction; ``lookup`` has the batch's usage prefetched and ``lookup.plain`` set."""
    plain = lookup.plain or set()
    candidates = sorted(pk for pk in subscription_ids if pk in plain)
    if not candidates:
        return NOTHING_BILLED
    locked = list(
        Subscription.objects.select_for_update(of=("self",))
        .filter(pk__in=candidates)
        .select_related("version__plan", "customer")
        .order_by("pk")
    )
    billable = [s for s in locked if batch_billable(s, now=now)]
    drafts: list[tuple[Subscription, list[LineDraft], Invoice]] = []
    for subscription in billable:
        lines = period_lines(
            subscription=subscription,
            kind=InvoiceKind.PERIOD,
            period_start=subscription.current_period_start,
            period_end=subscription.current_period_end,
            lookup=lookup,
            now=now,
        )
        drafts.append((subscription, lines, _draft(subscription, lines, now)))
    inserted = _invoices_insert([invoice for _, _, invoice in drafts])
    if not inserted:
        return NOTHING_BILLED
    billed: list[tuple[Subscription, list[LineDraft], Invoice]] = []
    for subscription, lines, invoice in drafts:
        if subscription.pk in inserted:
            invoice.pk = inserted[subscription.pk]
            invoice._state.adding = False
            billed.append((subscription, lines, invoice))
    InvoiceLine.objects.bulk_create(
        [row for _, lines, invoice in billed for row in line_rows(invoice=invoice, lines=lines)]
    )
    InvoiceEvent.objects.bulk_create(
        InvoiceEvent(
            invoice=invoice,
            action="created",
            to_status=InvoiceStatus.DRAFT,
            actor=actor_user(actor),
            actor_label=actor_label(actor)[:150],
            details=jsonable({"lines": len(lines), "total": invoice.total}),
        )
        for _, lines, invoice in billed
    )
    audit_log_write_many(
        [
            AuditRecord(
                actor=actor,
                action="invoice.drafted",
                obj=invoice,
                changes={
                    "subscription": subscription.external_id,
                    "kind": InvoiceKind.PERIOD,
                    "period": [invoice.period_start, invoice.period_end],
                    "total": invoice.total,
                },
            )
            for subscription, _, invoice in billed
        ]
    )
    subscriptions_period_advance_many(
        subscriptions=[subscription for subscription, _, _ in billed], now=now, actor=actor
    )
    invoices = [invoice for _, _, invoice in billed]
    _finalize_due(invoices, lookup=lookup, now=now, actor=actor)
    return BatchBilled(
        subscription_ids=frozenset(subscription.pk for subscription, _, _ in billed),
        invoices=tuple(invoices),
    )
