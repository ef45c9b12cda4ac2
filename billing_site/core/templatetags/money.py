"""Template filters for money in the currency's own form: {{ amount|money:currency }}."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

from billing_site.core.money import format_money

register = template.Library()


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


@register.filter
def money(value: Any, currency: str) -> str:
    """An amount rounded to the currency's minor unit: {{ 49|money:"USD" }} -> $49.00."""
    number = _decimal(value)
    return "—" if number is None or not currency else format_money(number, currency)


@register.filter
def unit_price(value: Any, currency: str) -> str:
    """A per-unit price with its significant decimals: {{ "0.0025"|unit_price:"USD" }}."""
    number = _decimal(value)
    if number is None or not currency:
        return "—"
    return format_money(number, currency, unit_price=True)
