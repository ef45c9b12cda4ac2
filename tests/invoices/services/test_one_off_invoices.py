"""One-off invoices: add-on lines to the cent, one invoice per idempotency key, the same
lifecycle (gapless number, due date, beat finalization) and Stripe push as period invoices."""

from datetime import timedelta
from decimal import Decimal

import pytest
import stripe
from django.conf import settings

from billing_site.core.exceptions import ApplicationError, ConflictError
from billing_site.core.models import AuditLogEntry
from invoices.models import Invoice, InvoiceLine
from invoices.services import drafts_due_ids, drafts_finalize, invoice_finalize
from invoices.services.one_off import OneOffItem, one_off_invoice_create
from invoices.stripe_services import invoice_stripe_push
from tests.invoices.add_on_factories import make_add_on, one_off
from tests.invoices.factories import utc
from tests.plans.factories import make_customer

pytestmark = pytest.mark.django_db

NOW = utc(2026, 3, 10, 15, 30)


def items_of(*specs: tuple[str, str, str | None, str]) -> list[OneOffItem]:
    return [
        OneOffItem(
            add_on=make_add_on(code),
            quantity=Decimal(quantity),
            unit_price=None if price is None else Decimal(price),
            description=text,
        )
        for code, quantity, price, text in specs
    ]


def test_lines_are_priced_to_the_cent_with_catalog_or_override_prices():
    # given a setup fee of 49.00 and a support hour of 120.00
    customer = make_customer("acme")
    make_add_on("setup", "49.00")
    make_add_on("support-hour", "120.00")

    # when staff bill 3 setups at the catalog price and 1.5 hours at an override of 80.333
    invoice, created = one_off_invoice_create(
        customer=customer,
        items=items_of(("setup", "3", None, ""), ("support-hour", "1.5", "80.333", "Migration")),
        idempotency_key="acme-march",
        now=NOW,
    )

    # then the draft has no subscription, two add-on lines rounded once each, and their sum
    assert created
    assert (invoice.kind, invoice.status, invoice.subscription_id, invoice.version_id) == (
        "one_off",
        "draft",
        None,
        None,
    )
    setup, support = invoice.lines.order_by("position")
    assert (setup.kind, setup.description, setup.quantity, setup.unit_amount, setup.amount) == (
        "add_on",
        "Setup",
        Decimal("3"),
        Decimal("49.00"),
        Decimal("147.00"),
    )
    assert (support.description, support.amount_precise, support.amount) == (
        "Migration",
        Decimal("120.4995"),
        Decimal("120.50"),
    )
    assert support.breakdown["price_overridden"] is True
    assert support.add_on.code == "support-hour"
    assert invoice.total == Decimal("267.50")
    assert (invoice.period_start, invoice.period_end) == (utc(2026, 3, 10), utc(2026, 3, 11))
    assert AuditLogEntry.objects.filter(action="invoice.drafted").count() == 1


def test_a_retry_with_the_same_key_returns_the_first_invoice():
    customer = make_customer("acme")
    items = items_of(("setup", "2", None, ""))
    first, created = one_off_invoice_create(customer=customer, items=items, idempotency_key="k")

    again, created_again = one_off_invoice_create(
        customer=customer, items=items_of(("setup", "2.00", None, "")), idempotency_key="k"
    )

    assert (created, created_again, again.pk) == (True, False, first.pk)
    assert Invoice.objects.count() == 1
    assert InvoiceLine.objects.count() == 1


def test_the_same_key_with_other_content_is_refused_and_writes_nothing():
    customer = make_customer("acme")
    one_off_invoice_create(
        customer=customer, items=items_of(("setup", "2", None, "")), idempotency_key="k"
    )

    with pytest.raises(ConflictError) as refused:
        one_off_invoice_create(
            customer=customer, items=items_of(("setup", "3", None, "")), idempotency_key="k"
        )

    assert refused.value.fields == {"idempotency_key": ["Already used with different content."]}
    assert (Invoice.objects.count(), InvoiceLine.objects.count()) == (1, 1)


def test_add_ons_in_two_currencies_are_refused():
    customer = make_customer("acme")
    make_add_on("setup", "49.00", "USD")
    make_add_on("onboarding", "40.00", "EUR")

    with pytest.raises(ApplicationError) as refused:
        one_off_invoice_create(
            customer=customer,
            items=items_of(("setup", "1", None, ""), ("onboarding", "1", None, "")),
            idempotency_key="k",
        )

    assert refused.value.code == "currency_mismatch"
    assert "items" in refused.value.fields
    assert Invoice.objects.count() == 0


def test_finalizing_gives_the_next_number_and_thirty_days_to_pay_and_keeps_the_lines():
    # given a period invoice number already taken this year, and a one-off draft
    customer = make_customer("acme")
    draft = one_off(customer, ("setup", "2"), key="k-1")
    other = one_off(make_customer("globex"), ("setup", "1"), key="k-2")
    invoice_finalize(invoice=other, now=NOW)

    # when the draft is finalized (with the recompute a period invoice gets)
    invoice = invoice_finalize(invoice=draft, now=NOW)

    # then it is numbered after the other, due in 30 days, its lines untouched
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("finalized", "INV-2026-000002")
    assert invoice.due_at == NOW + timedelta(days=30)
    assert list(invoice.lines.values_list("amount", flat=True)) == [Decimal("98.00")]
    assert invoice.total == Decimal("98.00")


def test_beat_finalizes_a_one_off_draft_after_its_day_of_review():
    customer = make_customer("acme")
    draft = one_off(customer, ("setup", "1"), now=NOW)
    assert drafts_due_ids(now=NOW + timedelta(hours=23)) == []

    later = NOW + timedelta(days=1)
    assert drafts_finalize(invoice_ids=drafts_due_ids(now=later), now=later) == 1

    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("finalized", "INV-2026-000001")


def test_a_finalized_one_off_invoice_is_pushed_to_stripe_once(stripe_on):
    # given a one-off invoice of 2 × 49.00 finalized at once
    customer = make_customer("acme", name="Acme", email="ap@acme.example")
    invoice = one_off(customer, ("setup", "2"), finalize=True)
    assert invoice.status == "finalized"

    # when the push runs twice
    invoice_stripe_push(invoice_id=invoice.pk)
    invoice_stripe_push(invoice_id=invoice.pk)

    # then Stripe holds one PaymentIntent of 9800 cents for it
    client = stripe.StripeClient(
        api_key=settings.STRIPE_SECRET_KEY, base_addresses={"api": settings.STRIPE_API_BASE}
    )
    (intent,) = client.v1.payment_intents.list().data
    assert (intent.amount, intent.currency) == (9800, "usd")
    assert intent.metadata["invoice_id"] == str(invoice.pk)
    invoice.refresh_from_db()
    assert invoice.stripe_payment_intent_id == intent.id
    assert invoice.payment_status == "pending"
