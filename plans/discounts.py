"""Percentage discounts of an override, applied to prices before they are charged.

Pure: no ORM, settings or clock.

Invariants
- A discount of ``p`` percent (0 < p <= 100) multiplies every price of a charge by
  ``(100 - p) / 100``: per-unit and per-package amounts, tier prices and flat fees, and for the
  percentage model its rate, fixed fee and per-transaction minimum and maximum. Quantities (free
  units, package sizes, tier bounds, free transactions, the free amount of transactions) are not
  prices and stay as they are.
- Every charge model's amount is linear in its prices (and the percentage model's clamp to
  min/max is too, for a non-negative factor), so pricing the discounted properties gives exactly
  ``(100 - p) / 100`` of the undiscounted amount: the discount is exact and unrounded, and the
  invoice line still rounds once. ``tests/plans/unit/test_discounts.py`` checks it with
  hypothesis.
- A charge's minimum per period is a floor, not a price: a discount leaves it alone.
"""

from collections.abc import Mapping
from decimal import Context, Decimal, InvalidOperation
from typing import Any

_EXACT = Context(prec=200)
_HUNDRED = Decimal("100")
MAX_DISCOUNT = _HUNDRED

# The keys holding prices, per charge model (the tier keys inside ``*_ranges`` rows).
PRICE_KEYS: dict[str, tuple[str, ...]] = {
    "standard": ("amount",),
    "package": ("amount",),
    "percentage": (
        "rate",
        "fixed_amount",
        "per_transaction_min_amount",
        "per_transaction_max_amount",
    ),
}
TIER_PRICE_KEYS = ("per_unit_amount", "flat_amount")
RANGE_KEYS = ("graduated_ranges", "volume_ranges")


class DiscountError(ValueError):
    """A discount that is not a number in (0, 100]."""


def discount_percent_parse(value: Any) -> Decimal:
    """The discount as a Decimal, or ``DiscountError`` with a message a person can act on."""
    try:
        if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
            raise InvalidOperation
        percent = Decimal(str(value).strip())
    except InvalidOperation:
        raise DiscountError(f"Give the discount as a number of percent; got {value!r}.") from None
    if not percent.is_finite() or percent <= 0 or percent > MAX_DISCOUNT:
        raise DiscountError("A discount is more than 0% and at most 100%.")
    return percent


def discount_factor(percent: Decimal) -> Decimal:
    """What remains to pay: 20 (%) -> 0.8."""
    return _EXACT.divide(_EXACT.subtract(_HUNDRED, percent), _HUNDRED)


def discounted_amount(amount: Decimal, percent: Decimal) -> Decimal:
    """An amount after the discount, exact and unrounded: 49.00 at 20% -> 39.2000."""
    return _EXACT.multiply(amount, discount_factor(percent))


def _scaled(value: Any, factor: Decimal) -> Any:
    if value is None or isinstance(value, bool):
        return value
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return value  # not a number: left for validation to report
    if not number.is_finite():
        return value
    return format(_EXACT.multiply(number, factor), "f")


def discounted_properties(
    charge_model: str, properties: Mapping[str, Any], percent: Decimal
) -> dict[str, Any]:
    """The charge's properties with every price multiplied by what remains after ``percent``."""
    factor = discount_factor(percent)
    result = dict(properties)
    for key in PRICE_KEYS.get(charge_model, ()):
        if key in result:
            result[key] = _scaled(result[key], factor)
    for key in RANGE_KEYS:
        tiers = result.get(key)
        if isinstance(tiers, list):
            result[key] = [
                {
                    name: _scaled(item, factor) if name in TIER_PRICE_KEYS else item
                    for name, item in tier.items()
                }
                if isinstance(tier, Mapping)
                else tier
                for tier in tiers
            ]
    return result


def discounted_filters(
    charge_model: str, filters: tuple[Mapping[str, Any], ...], percent: Decimal
) -> tuple[Mapping[str, Any], ...]:
    """Each charge filter with its own price discounted the same way."""
    return tuple(
        {
            **raw,
            "properties": discounted_properties(charge_model, raw.get("properties") or {}, percent),
        }
        for raw in filters
    )
