"""Builders for add-on and one-off invoice tests, through the services the product uses."""

from decimal import Decimal
from typing import Any

from invoices.models import AddOn, Invoice
from invoices.services.add_ons import add_on_save
from invoices.services.one_off import OneOffItem, one_off_invoice_create
from plans.models import Customer


def make_add_on(code: str = "setup", amount: str = "49.00", currency: str = "USD", **kw: Any):
    existing = AddOn.objects.filter(code=code).first()
    if existing is not None:
        return existing
    return add_on_save(
        add_on=AddOn(
            code=code,
            name=kw.pop("name", code.replace("-", " ").title()),
            amount=Decimal(amount),
            currency=currency,
            **kw,
        )
    )


def one_off(customer: Customer, *items: tuple[str, str], key: str = "k-1", **kw: Any) -> Invoice:
    """A one-off invoice of (add-on code, quantity) items at catalog prices."""
    invoice, _ = one_off_invoice_create(
        customer=customer,
        items=[OneOffItem(add_on=make_add_on(code), quantity=Decimal(qty)) for code, qty in items],
        idempotency_key=key,
        **kw,
    )
    return invoice
