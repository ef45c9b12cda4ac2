"""The arithmetic of an add-on line: pure, no ORM, settings or clock.

A line is ``quantity × unit price``, kept exact in ``amount_precise`` and rounded once, half-up,
to the currency's minor unit in ``amount``; the invoice's total is the sum of the rounded lines,
as for every other invoice.
"""

from datetime import datetime
from decimal import Decimal

from billing_site.core.money import quantize
from invoices.calculations import LineDraft


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def add_on_line(
    *,
    kind: str,
    description: str,
    quantity: Decimal,
    unit_price: Decimal,
    catalog_price: Decimal,
    add_on_code: str,
    currency: str,
    line_start: datetime,
    line_end: datetime,
) -> LineDraft:
    """One add-on line; ``unit_price`` is the price charged (an override, or the catalog's)."""
    precise = quantity * unit_price
    return LineDraft(
        kind=kind,
        description=description,
        quantity=quantity,
        unit_amount=unit_price,
        amount_precise=precise,
        amount=quantize(precise, currency),
        line_start=line_start,
        line_end=line_end,
        breakdown={
            "formula": f"{_plain(quantity)} × {_plain(unit_price)}",
            "add_on": add_on_code,
            "catalog_unit_amount": _plain(catalog_price),
            "price_overridden": unit_price != catalog_price,
        },
    )
