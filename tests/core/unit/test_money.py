from decimal import Decimal

import pytest

from billing_site.core.money import currency_exponent, from_minor_units, quantize


@pytest.mark.parametrize(
    ("_case", "amount", "currency", "expected"),
    [
        ("half up in cents", "0.125", "USD", "0.13"),
        ("below half in cents", "0.1249999", "EUR", "0.12"),
        ("exact", "25.000000", "USD", "25.00"),
        ("zero-decimal yen", "12.5", "JPY", "13"),
        ("zero-decimal won", "1499.4", "KRW", "1499"),
        ("three-decimal dinar", "1.2345", "KWD", "1.235"),
        ("lower-case code", "0.005", "usd", "0.01"),
        ("large amount keeps its digits", "123456789012345.675", "USD", "123456789012345.68"),
    ],
)
def test_quantize_rounds_half_up_to_the_minor_unit(_case, amount, currency, expected):
    result = quantize(Decimal(amount), currency)
    assert result == Decimal(expected)
    assert str(result) == expected


def test_quantize_refuses_floats():
    with pytest.raises(TypeError):
        quantize(0.1, "USD")  # type: ignore[arg-type]


def test_minor_units_follow_the_currency_exponent():
    assert (currency_exponent("USD"), currency_exponent("JPY"), currency_exponent("BHD")) == (
        2,
        0,
        3,
    )
    assert from_minor_units(4900, "USD") == Decimal("49.00")
    assert from_minor_units(500, "JPY") == Decimal("500")
    assert from_minor_units(1500, "BHD") == Decimal("1.500")
