"""Counts and quantities as finance staff read them: grouped by thousands, {{ 10000|grouped }}
-> 10,000; decimals keep their significant digits (1234.5000 -> 1,234.5)."""

from typing import Any

from django import template

from billing_site.core.numbers import grouped_number

register = template.Library()


@register.filter
def grouped(value: Any) -> str:
    """{{ 10000|grouped }} -> 10,000."""
    return grouped_number(value)
