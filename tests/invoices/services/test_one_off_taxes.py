"""Taxes on one-off invoices: each add-on line at the add-on's own rates, else the customer's,
else the organization's default; one tax line per rate, rounded per line, total = sum of lines."""

from decimal import Decimal

import pytest

from invoices.services.one_off import OneOffItem, one_off_invoice_create
from tests.invoices.add_on_factories import make_add_on
from tests.invoices.adjustment_factories import make_tax_rate
from tests.invoices.factories import utc
from tests.plans.factories import make_customer

pytestmark = pytest.mark.django_db

NOW = utc(2026, 3, 10, 15, 30)


def test_an_add_on_is_taxed_at_its_own_rates_before_the_customers_and_the_default():
    # given a default 10 % rate, a customer rate of 20 % and a 5.5 % rate on the book add-on
    customer = make_customer("acme")
    make_tax_rate("default", "10", default=True)
    make_tax_rate("vat", "20", customers=[customer])
    reduced = make_tax_rate("reduced", "5.5")
    book = make_add_on("book", "19.99")
    book.taxes.set([reduced])
    make_add_on("setup", "49.00")

    # when staff bill 3 books and one setup
    invoice, _ = one_off_invoice_create(
        customer=customer,
        items=[
            OneOffItem(add_on=book, quantity=Decimal(3)),
            OneOffItem(add_on=make_add_on("setup"), quantity=Decimal(1)),
        ],
        idempotency_key="acme-books",
        now=NOW,
    )

    # then the books take the reduced rate (59.97 x 5.5 % = 3.29835 -> 3.30), the setup the
    # customer's VAT (49.00 x 20 % = 9.80); the default rate is not used
    lines = list(invoice.lines.order_by("position").values_list("kind", "description", "amount"))
    assert lines[:2] == [
        ("add_on", "Book", Decimal("59.97")),
        ("add_on", "Setup", Decimal("49.00")),
    ]
    taxes = sorted((d, a) for k, d, a in lines if k == "tax")
    assert taxes == [("REDUCED (5.5 %)", Decimal("3.30")), ("VAT (20 %)", Decimal("9.80"))]
    assert invoice.total == Decimal("122.07") == sum(amount for _, _, amount in lines)


def test_a_customer_without_rates_pays_the_default_rate_and_no_rate_means_no_tax_line():
    # given only a default rate of 8.25 %
    taxed = make_customer("taxed")
    setup = make_add_on("setup", "49.00")
    make_tax_rate("default", "8.25", default=True)

    invoice, _ = one_off_invoice_create(
        customer=taxed,
        items=[OneOffItem(add_on=setup, quantity=Decimal(1))],
        idempotency_key="taxed-setup",
        now=NOW,
    )

    # then 49.00 x 8.25 % = 4.0425 -> 4.04
    tax = invoice.lines.get(kind="tax")
    assert (tax.amount, invoice.total) == (Decimal("4.04"), Decimal("53.04"))
