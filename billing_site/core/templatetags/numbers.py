"""Counts and quantities as finance staff read them: grouped by thousands, {{ 10000|grouped }}
-> 10,000; decimals keep their significant digits (1234.5000 -> 1,234.5)."""

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()


def grouped_number(value: Any) -> str:
    """`value` with thousands separators, trailing zeros dropped; "—" for nothing or non-numbers."""
    if value is None or value == "" or isinstance(value, bool):
        return "—"
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return "—"
    if not number.is_finite():
        return "—"
    if number == number.to_integral_value():
        return f"{number.quantize(Decimal(1)):,f}"
    return f"{number.normalize():,f}"


@register.filter
def grouped(value: Any) -> str:
    """{{ 10000|grouped }} -> 10,000."""
    return grouped_number(value)
