"""After the draft: the grace period, late usage, finalization, payment and void."""

from datetime import timedelta
from decimal import Decimal

import pytest

from billing_site.core.exceptions import ConflictError
from billing_site.core.models import AuditLogEntry
from invoices.models import Invoice, InvoiceEvent, InvoiceStatus
from invoices.services import (
    drafts_due_ids,
    drafts_finalize,
    drafts_refresh,
    drafts_with_late_events_ids,
    invoice_mark_paid,
    invoice_void,
    subscription_bill_due,
)
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc

pytestmark = pytest.mark.django_db

FEB_1 = utc(2026, 2, 1, 0, 5)
PAYG = {"tokens": ("standard", {"amount": "0.10"})}


def test_a_late_event_during_the_grace_period_is_on_the_finalized_invoice():
    # given a plan with 3 grace days, billed at the end of January
    version = plan_version("grace", base_fee="0", charges=PAYG, invoice_grace_days=3)
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    send_tokens("acme", 100, at=utc(2026, 1, 10))
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    assert (invoice.status, invoice.total, invoice.number) == ("draft", Decimal("10.00"), None)

    # when an event of January arrives on Feb 2 and the drafts are refreshed
    send_tokens("acme", 50, at=utc(2026, 1, 31, 23), received_at=utc(2026, 2, 2))
    assert drafts_with_late_events_ids() == [invoice.pk]
    drafts_refresh(invoice_ids=[invoice.pk], now=utc(2026, 2, 2, 1))
    invoice.refresh_from_db()
    assert invoice.total == Decimal("15.00")

    # then it is not due before the grace period ends, and finalizes after
    assert drafts_due_ids(now=utc(2026, 2, 3)) == []
    assert drafts_due_ids(now=utc(2026, 2, 4, 0, 6)) == [invoice.pk]
    assert drafts_finalize(invoice_ids=[invoice.pk], now=utc(2026, 2, 4, 0, 6)) == 1
    assert drafts_finalize(invoice_ids=[invoice.pk], now=utc(2026, 2, 4, 0, 7)) == 0
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total, invoice.number) == (
        "finalized",
        Decimal("15.00"),
        "INV-2026-000001",
    )
    assert invoice.due_at == utc(2026, 2, 4, 0, 6)
    assert list(invoice.events.values_list("action", flat=True)) == [
        "created",
        "recomputed",
        "recomputed",
        "status.finalized",
    ]


def test_late_usage_after_finalization_becomes_an_adjustment_on_the_next_invoice():
    # given January billed and finalized at 10.00 (100 tokens at 0.10)
    version = plan_version("late", base_fee="0", charges=PAYG)
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    send_tokens("acme", 100, at=utc(2026, 1, 10))
    (january,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # when 30 tokens of January arrive on Feb 10, and February is billed
    send_tokens("acme", 30, at=utc(2026, 1, 20), received_at=utc(2026, 2, 10))
    send_tokens("acme", 5, at=utc(2026, 2, 10))
    (february,) = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 3, 1, 1))

    # then February has its usage and an adjustment of 3.00 for January; January is unchanged
    january.refresh_from_db()
    assert january.total == Decimal("10.00")
    assert [(line.kind, line.amount, line.source_invoice_id) for line in february.lines.all()] == [
        ("usage", Decimal("0.50"), None),
        ("adjustment", Decimal("3.00"), january.pk),
    ]
    adjustment = february.lines.get(kind="adjustment")
    assert adjustment.description.startswith("Late usage for INV-2026-000001")
    assert adjustment.event_count == 1

    # and March has no second adjustment for the same late tokens
    (march,) = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 4, 1, 1))
    assert list(march.lines.values_list("kind", flat=True)) == ["usage"]


def test_mark_paid_and_void_move_through_the_map_with_an_audit_trail(django_user_model):
    # given a finalized invoice
    staff = django_user_model.objects.create_user("fin", password="x")
    subscription = subscribe(plan_version(charges={}), started_at=utc(2026, 1, 1))
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # when it is voided by staff
    invoice_void(invoice=invoice, actor=staff, reason="Duplicate customer")

    # then it is void, numbered still, and cannot be paid
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (InvoiceStatus.VOID, "INV-2026-000001")
    assert invoice.voided_at is not None
    with pytest.raises(ConflictError, match="void; it can move to nothing"):
        invoice_mark_paid(invoice=invoice, actor=staff)
    event = InvoiceEvent.objects.get(invoice=invoice, action="status.void")
    assert (event.actor, event.from_status, event.reason) == (
        staff,
        "finalized",
        "Duplicate customer",
    )
    assert AuditLogEntry.objects.filter(action="invoice.void", actor=staff).count() == 1


def test_mark_paid_records_when_and_is_idempotent():
    subscription = subscribe(plan_version(charges={}), started_at=utc(2026, 1, 1))
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    paid_at = FEB_1 + timedelta(days=2)

    invoice_mark_paid(invoice=invoice, reason="Wire transfer", paid_at=paid_at)
    invoice_mark_paid(invoice=invoice, reason="Again")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_at) == (InvoiceStatus.PAID, paid_at)
    assert invoice.events.filter(action="status.paid").count() == 1


def test_void_needs_a_reason_and_a_draft_cannot_be_voided_or_paid():
    version = plan_version("g", base_fee="5", charges={}, invoice_grace_days=2)
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    (draft,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    with pytest.raises(ConflictError, match="reason"):
        invoice_void(invoice=draft, reason=" ")
    with pytest.raises(ConflictError, match="draft; it can move to finalized, not paid"):
        invoice_mark_paid(invoice=draft)
    assert Invoice.objects.get().status == InvoiceStatus.DRAFT
