"""Numbers as finance staff read them, for every screen: pure, no Django."""

from decimal import Decimal, InvalidOperation
from typing import Any


def decimal_or_none(value: Any) -> Decimal | None:
    """``value`` (a number or numeric text) as a finite Decimal; None for nothing, booleans,
    non-numbers, infinities and NaN."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def grouped_number(value: Any) -> str:
    """``value`` with thousands separators and without trailing zeros (10,000; 1,234.5); "—"
    for nothing or non-numbers."""
    number = decimal_or_none(value)
    if number is None:
        return "—"
    if number == number.to_integral_value():
        return f"{number.quantize(Decimal(1)):,f}"
    return f"{number.normalize():,f}"
