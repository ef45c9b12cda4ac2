from decimal import Decimal

import pytest
from django.template import Context, Template

from billing_site.core.money import format_money


@pytest.mark.parametrize(
    ("_case", "amount", "currency", "shown"),
    [
        ("dollars keep cents", "49", "USD", "$49.00"),
        ("yen have no minor unit", "500", "JPY", "¥500"),
        ("thousands are grouped", "1234.5", "EUR", "€1,234.50"),
        ("half a cent rounds up", "0.125", "USD", "$0.13"),
        ("negative half rounds away from zero", "-3.145", "USD", "-$3.15"),
        ("half a yen rounds up", "2.5", "JPY", "¥3"),
        ("three-decimal currency", "1.2345", "KWD", "KWD1.235"),
        ("lower-case code", "10", "usd", "$10.00"),
    ],
)
def test_amount_is_shown_in_the_currency_form(_case, amount, currency, shown):
    assert format_money(Decimal(amount), currency) == shown


@pytest.mark.parametrize(
    ("_case", "amount", "currency", "shown"),
    [
        ("sub-cent price keeps its digits", "0.0025", "USD", "$0.0025"),
        ("trailing zeros beyond the minor unit go", "0.002000", "USD", "$0.002"),
        ("whole price shows the minor unit", "5", "USD", "$5.00"),
        ("fractional yen price", "0.5", "JPY", "¥0.5"),
        ("twelve decimals", "0.000000000001", "USD", "$0.000000000001"),
    ],
)
def test_unit_price_keeps_significant_decimals(_case, amount, currency, shown):
    assert format_money(Decimal(amount), currency, unit_price=True) == shown


def test_template_filters_format_and_dash_missing_values():
    template = Template(
        "{% load money %}{{ a|money:'USD' }} {{ p|unit_price:'USD' }} {{ none|money:'USD' }}"
    )
    rendered = template.render(Context({"a": Decimal("1000"), "p": "0.0018", "none": None}))
    assert rendered == "$1,000.00 $0.0018 —"
