"""Template filters for money in the currency's own form: {{ amount|money:currency }}."""

from typing import Any

from django import template

from billing_site.core.money import format_money
from billing_site.core.numbers import decimal_or_none

register = template.Library()


@register.filter
def money(value: Any, currency: str) -> str:
    """An amount rounded to the currency's minor unit: {{ 49|money:"USD" }} -> $49.00."""
    number = decimal_or_none(value)
    return "—" if number is None or not currency else format_money(number, currency)


@register.filter
def unit_price(value: Any, currency: str) -> str:
    """A per-unit price with its significant decimals: {{ "0.0025"|unit_price:"USD" }}."""
    number = decimal_or_none(value)
    if number is None or not currency:
        return "—"
    return format_money(number, currency, unit_price=True)
