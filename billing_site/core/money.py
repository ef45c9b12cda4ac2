"""Money: column sizes, currency codes and the one rounding rule.

Amounts are computed exactly (unrounded ``Decimal``) and rounded once per invoice line with
``quantize(amount, currency)``: half-up to the currency's minor unit (ISO 4217 exponent).
"""

from decimal import ROUND_HALF_UP, Context, Decimal

from babel.numbers import format_currency
from django.core.validators import RegexValidator

MONEY_MAX_DIGITS = 20
MONEY_DECIMAL_PLACES = 4
RATE_DECIMAL_PLACES = 12

CURRENCY_CODE_REGEX = r"^[A-Z]{3}$"
CURRENCY_VALIDATOR = RegexValidator(
    CURRENCY_CODE_REGEX, "Use an ISO 4217 currency code: three upper-case letters, e.g. USD."
)

# ISO 4217 currencies whose minor unit is not 1/100.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "ISK",
        "JPY",
        "KMF",
        "KRW",
        "PYG",
        "RWF",
        "UGX",
        "UYI",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"})

_WIDE = Context(prec=200)


def currency_exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (2 unless listed above)."""
    code = currency.upper()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round ``amount`` half-up to the currency's minor unit: 0.125 USD -> 0.13, 12.5 JPY -> 13."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"quantize takes a Decimal, not {type(amount).__name__}.")
    exponent = Decimal(1).scaleb(-currency_exponent(currency))
    return amount.quantize(exponent, rounding=ROUND_HALF_UP, context=_WIDE)


def from_minor_units(value: int, currency: str) -> Decimal:
    """An integer amount in minor units (cents) as a Decimal in major units: 4900 USD -> 49.00."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"from_minor_units takes an int, not {type(value).__name__}.")
    return Decimal(value).scaleb(-currency_exponent(currency))


def format_money(amount: Decimal, currency: str, *, unit_price: bool = False) -> str:
    """Money as people read it, in the currency's own form: $49.00, ¥500, €1,234.50.

    An amount is shown rounded half-up to the minor unit (as ``quantize`` rounds it); a unit price
    (``unit_price=True``) keeps its significant decimals: $0.0025.
    """
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    code = currency.upper()
    exponent = currency_exponent(code)
    if unit_price:
        pattern = "¤#,##0." + "0" * exponent + "#" * (RATE_DECIMAL_PLACES - exponent)
    else:
        amount = quantize(amount, code)
        pattern = "¤#,##0" + ("." + "0" * exponent if exponent else "")
    return format_currency(
        amount,
        code,
        format=pattern,
        locale="en_US",
        currency_digits=False,
        decimal_quantization=not unit_price,
    )
