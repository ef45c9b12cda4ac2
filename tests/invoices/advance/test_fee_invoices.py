"""Fee invoices: the fees not yet invoiced are grouped onto one invoice per customer and run,
which then lives like any invoice (draft, finalized with a number, paid)."""

from decimal import Decimal

import pytest

from invoices.advance.invoicing import fee_invoices_create
from invoices.advance.models import AdvanceFee
from invoices.advance.services import advance_fees_create
from invoices.models import Invoice, InvoiceKind, InvoiceStatus
from invoices.services import invoice_finalize, invoice_mark_paid
from tests.invoices.advance.builders import advance_plan, send, tokens
from tests.invoices.factories import subscribe, utc

pytestmark = pytest.mark.django_db

JAN_10 = utc(2026, 1, 10)
RUN = utc(2026, 1, 10, 12)


def lines_of(invoice: Invoice) -> list[tuple[str, Decimal, Decimal]]:
    return [(line.kind, line.quantity, line.amount) for line in invoice.lines.all()]


def test_fees_are_grouped_onto_one_invoice_per_customer_with_a_line_per_fee():
    # given two customers on a plan with 3-day grace, tokens at 0.0125 paid in advance
    version = advance_plan(tokens(), "standard", {"amount": "0.0125"}, invoice_grace_days=3)
    subscribe(version, "acme", started_at=utc(2026, 1, 1), external_id="sub-acme")
    subscribe(version, "zeta", started_at=utc(2026, 1, 1), external_id="sub-zeta")
    send("acme", "tokens", {"tokens": 100}, {"tokens": 7}, at=JAN_10)
    send("zeta", "tokens", {"tokens": 40}, at=JAN_10)
    advance_fees_create(now=RUN)

    # when the grouping task runs
    made = fee_invoices_create(now=utc(2026, 1, 10, 12, 5))

    # then one draft fee invoice each, a usage line per fee, totals the sum of rounded lines
    by_customer = {invoice.customer.external_id: invoice for invoice in made}
    assert sorted(by_customer) == ["acme", "zeta"]
    acme, zeta = by_customer["acme"], by_customer["zeta"]
    assert (acme.kind, acme.status, acme.number) == (InvoiceKind.FEES, InvoiceStatus.DRAFT, None)
    assert lines_of(acme) == [
        ("usage", Decimal(100), Decimal("1.25")),
        ("usage", Decimal(7), Decimal("0.09")),
    ]
    assert acme.total == Decimal("1.34")
    assert (lines_of(zeta), zeta.total) == (
        [("usage", Decimal(40), Decimal("0.50"))],
        Decimal("0.50"),
    )
    line = acme.lines.first()
    assert line.description.startswith("Tokens (in advance) (event adv-")
    assert (line.line_start, line.line_end) == (utc(2026, 1, 1), utc(2026, 2, 1))
    assert not AdvanceFee.objects.filter(invoice__isnull=True).exists()


def test_a_fee_invoice_is_finalized_with_a_number_and_paid_like_any_invoice():
    # given a drafted fee invoice
    version = advance_plan(tokens(), "standard", {"amount": "0.5"}, invoice_grace_days=3)
    subscribe(version, started_at=utc(2026, 1, 1))
    send("acme", "tokens", {"tokens": 3}, at=JAN_10)
    advance_fees_create(now=RUN)
    (invoice,) = fee_invoices_create(now=RUN)

    # when it is finalized (recomputed from its fees on the way) and then paid
    invoice = invoice_finalize(invoice=invoice, now=utc(2026, 1, 13, 12))
    invoice_mark_paid(invoice=invoice, reason="wire received")

    # then its lines and total are unchanged, it has the first number, and it is paid
    invoice.refresh_from_db()
    assert lines_of(invoice) == [("usage", Decimal(3), Decimal("1.50"))]
    assert (invoice.total, invoice.number) == (Decimal("1.50"), "INV-2026-000001")
    assert invoice.status == InvoiceStatus.PAID


def test_without_grace_days_a_fee_invoice_is_finalized_at_once():
    subscribe(advance_plan(tokens(), "standard", {"amount": "1"}), started_at=utc(2026, 1, 1))
    send("acme", "tokens", {"tokens": 2}, at=JAN_10)
    advance_fees_create(now=RUN)

    (invoice,) = fee_invoices_create(now=RUN)

    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, invoice.total) == (
        InvoiceStatus.FINALIZED,
        "INV-2026-000001",
        Decimal("2.00"),
    )


def test_grouping_twice_makes_one_invoice_and_later_fees_go_on_the_next_window():
    # given fees grouped once
    subscribe(advance_plan(tokens(), "standard", {"amount": "1"}), started_at=utc(2026, 1, 1))
    send("acme", "tokens", {"tokens": 2}, at=JAN_10)
    advance_fees_create(now=RUN)
    (first,) = fee_invoices_create(now=utc(2026, 1, 10, 12, 5))

    # when the task runs again with nothing new, then after a new event
    again = fee_invoices_create(now=utc(2026, 1, 10, 12, 5))
    send("acme", "tokens", {"tokens": 5}, at=utc(2026, 1, 11))
    advance_fees_create(now=utc(2026, 1, 11, 1))
    (second,) = fee_invoices_create(now=utc(2026, 1, 11, 1, 5))

    # then nothing the second time, and the next invoice starts where the first one ended
    assert again == []
    assert (first.period_start, first.period_end) == (utc(2026, 1, 1), utc(2026, 1, 10, 12, 5))
    assert (second.period_start, second.period_end) == (
        utc(2026, 1, 10, 12, 5),
        utc(2026, 1, 11, 1, 5),
    )
    assert [invoice.total for invoice in Invoice.objects.order_by("pk")] == [
        Decimal("2.00"),
        Decimal("5.00"),
    ]
