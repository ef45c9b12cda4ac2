"""Charge-model math: properties + aggregated units (+ per-event values) -> amount and breakdown.

Pure: no ORM, settings or clock. Properties use Lago's schemas and arrive as JSON values.

Invariants
- Exact. Every number becomes a ``Decimal`` through ``Decimal(str(value))``, never through
  ``float`` arithmetic, and all arithmetic runs in a 200-digit context that traps ``Inexact``:
  a result is exact or it is an error, never silently rounded.
- Unrounded. ``ChargeResult.amount`` is the precise amount; the invoice line rounds it once to
  the currency's minor unit (half-up). Only ``example_sentence`` rounds, for display.
- The breakdown explains the amount: row amounts sum exactly to it, and every row satisfies
  ``amount == units * unit_price + flat_amount``.
- Tiers count integer-inclusive as the seed guides write them: 0-1000 holds 1000 units,
  1001-10000 the next 9000, 10001+ the rest. A boundary may also be written continuously
  (1000-10000 after 0-1000), holding ``to_value - from_value``. Both say the same thing: tier i
  holds the units in (to_value of tier i-1, to_value of tier i], the first tier also holding 0.
  So a mixed table is allowed (each boundary picks its style) and capacities depend only on the
  to_values. Fractional units fall where that interval puts them: of 1000.5 units, 1000 are in
  0-1000 and 0.5 in 1001-10000; a volume total of 100.5 is priced in 101-200.
- Flat amounts: graduated charges the first tier's flat amount even at zero units (as Lago and
  Stripe do) and a later tier's once units exceed its lower bound; volume charges the flat
  amount of the one tier the total falls in (the first tier at zero units).
- Percentage: ``rate`` percent of the units beyond the free allowance plus ``fixed_amount`` per
  paid transaction, each transaction's fee clamped to the per-transaction min/max. The
  transactions are ``event_values`` in time order (they must sum to ``units``); without event
  values, ``units`` is one transaction, so callers pricing per-event settings
  (``free_units_per_events``, min/max) must pass the events. A zero free limit counts as not set.
- Pricing groups (Lago's ``grouped_by``, also ``pricing_group_keys``): any model may list event
  properties to price separately per distinct combination of their values. ``price`` prices one
  group's units (the key changes nothing in it); ``plans.pricing_groups.price_groups`` prices each
  group the caller aggregated, so ``standard {amount: 10, grouped_by: [region]}`` with 2 units
  in us and 1 in eu gives two results, 20 and 10.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, localcontext
from typing import Any, Literal, get_args

from billing_site.core.money import format_money
from billing_site.core.numbers import decimal_or_none

ChargeModel = Literal["standard", "package", "graduated", "volume", "percentage"]
CHARGE_MODELS: tuple[str, ...] = get_args(ChargeModel)

_ZERO = Decimal("0")
_HUNDRED = Decimal("100")
_EXACT = Context(prec=200)  # also traps InvalidOperation, DivisionByZero, Overflow
_EXACT.traps[Inexact] = True

_KEYS: dict[str, tuple[str, ...]] = {
    "standard": ("amount", "free_units"),
    "package": ("amount", "package_size", "free_units"),
    "graduated": ("graduated_ranges",),
    "volume": ("volume_ranges",),
    "percentage": (
        "rate",
        "fixed_amount",
        "free_units_per_events",
        "free_units_per_total_aggregation",
        "per_transaction_min_amount",
        "per_transaction_max_amount",
    ),
}
_TIER_KEYS = ("from_value", "to_value", "per_unit_amount", "flat_amount")
GROUPING_KEYS = ("grouped_by", "pricing_group_keys")
# Lago prorates only these models (a unit's share of the period scales its price linearly).
PRORATABLE_MODELS = ("standard", "graduated", "volume")


@dataclass(frozen=True)
class BreakdownRow:
    """One row of the explanation an invoice line keeps."""

    label: str
    units: Decimal
    unit_price: Decimal
    flat_amount: Decimal
    amount: Decimal

    def as_dict(self) -> dict[str, str]:
        numbers = ("units", "unit_price", "flat_amount", "amount")
        return {"label": self.label} | {name: _text(getattr(self, name)) for name in numbers}


@dataclass(frozen=True)
class ChargeResult:
    amount: Decimal
    units: Decimal
    breakdown: tuple[BreakdownRow, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "amount": _text(self.amount),
            "units": _text(self.units),
            "breakdown": [row.as_dict() for row in self.breakdown],
        }


class PricingError(ValueError):
    """Invalid properties or input; ``field`` is a path like ``graduated_ranges[1].from_value``."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class TierSpec:
    from_value: Decimal
    to_value: Decimal | None  # None: open-ended, last tier only
    per_unit_amount: Decimal
    flat_amount: Decimal
    lower: Decimal  # the tier holds the units in (lower, to_value]; the first tier also holds 0

    @property
    def label(self) -> str:
        if self.to_value is None:
            return f"{_grouped(self.from_value)} and up"
        return f"{_grouped(self.from_value)} – {_grouped(self.to_value)}"


@dataclass(frozen=True)
class UnitPriceSpec:
    amount: Decimal
    free_units: Decimal
    package_size: Decimal | None  # None: standard (per unit)


@dataclass(frozen=True)
class PercentageSpec:
    rate: Decimal
    fixed_amount: Decimal
    free_events: int  # 0: not set
    free_total: Decimal | None  # None: not set
    min_fee: Decimal | None
    max_fee: Decimal | None


_Spec = UnitPriceSpec | PercentageSpec | tuple[TierSpec, ...]


def price(
    model: ChargeModel,
    properties: Mapping[str, Any],
    units: Decimal,
    event_values: Sequence[Decimal] = (),
) -> ChargeResult:
    """Price ``units`` of a charge; raise ``PricingError`` for invalid properties or input.

    ``event_values`` (per-event amounts in time order, summing to ``units``) matter only to the
    percentage model and are ignored by the others.
    """
    try:
        with localcontext(_EXACT):
            spec = _parsed_or_raise(model, properties)
            quantity = _quantity(units, "units")
            if isinstance(spec, PercentageSpec):
                rows = _price_percentage(spec, _transactions(quantity, event_values))
            elif isinstance(spec, UnitPriceSpec):
                rows = _price_units(spec, quantity)
            elif model == "volume":
                rows = _price_volume(spec, quantity)
            else:
                rows = _price_graduated(spec, quantity)
            amount = sum((row.amount for row in rows), _ZERO)
            return ChargeResult(amount=amount, units=quantity, breakdown=tuple(rows))
    except Inexact:
        raise PricingError("units", "The amount has too many digits to compute exactly.") from None


def validate_properties(model: ChargeModel, properties: Mapping[str, Any]) -> dict[str, list[str]]:
    """Return ``{field_path: [messages]}`` for every problem found; ``{}`` when valid."""
    try:
        with localcontext(_EXACT):
            return dict(_parse(model, properties)[1])
    except Inexact:
        return {"properties": ["A number has too many digits to check exactly."]}


def example_sentence(
    model: ChargeModel, properties: Mapping[str, Any], units: Decimal, currency: str = "USD"
) -> str:
    """The admin's live example, e.g. "1,500 units cost $25.00" (the amount rounded half-up to
    the currency's minor unit and written in its own form)."""
    result = price(model, properties, units)
    noun = "unit costs" if result.units == 1 else "units cost"
    return f"{_grouped(result.units)} {noun} {format_money(result.amount, currency)}"


# --- pricing -------------------------------------------------------------------------------


def _row(label: str, units: Decimal, unit_price: Decimal, flat: Decimal = _ZERO) -> BreakdownRow:
    return BreakdownRow(label, units, unit_price, flat, units * unit_price + flat)


def _price_units(spec: UnitPriceSpec, units: Decimal) -> list[BreakdownRow]:
    free = min(units, spec.free_units)
    paid = units - free
    rows = [_row("free units", free, _ZERO)] if spec.free_units > 0 else []
    if spec.package_size is None:
        rows.append(_row("per unit", paid, spec.amount))
    else:
        whole, rest = divmod(paid, spec.package_size)
        rows.append(_row("package", whole + (1 if rest else 0), spec.amount))
    return rows


def _price_graduated(tiers: tuple[TierSpec, ...], units: Decimal) -> list[BreakdownRow]:
    rows = []
    for index, tier in enumerate(tiers):
        if index > 0 and units <= tier.lower:
            break
        top = units if tier.to_value is None else min(units, tier.to_value)
        rows.append(_row(tier.label, top - tier.lower, tier.per_unit_amount, tier.flat_amount))
    return rows


def _price_volume(tiers: tuple[TierSpec, ...], units: Decimal) -> list[BreakdownRow]:
    # Validation guarantees the last tier is open, so some tier always matches.
    tier = next(t for t in tiers if t.to_value is None or units <= t.to_value)
    return [_row(tier.label, units, tier.per_unit_amount, tier.flat_amount)]


def _transactions(units: Decimal, event_values: Sequence[Decimal]) -> tuple[Decimal, ...]:
    values = tuple(_quantity(v, f"event_values[{i}]") for i, v in enumerate(event_values))
    if not values:
        return (units,) if units > 0 else ()
    total = sum(values, _ZERO)
    if total != units:
        raise PricingError(
            "event_values",
            f"The event values sum to {_plain(total)} but units is {_plain(units)}; "
            "they must match.",
        )
    return values


def _price_percentage(
    spec: PercentageSpec, transactions: tuple[Decimal, ...]
) -> list[BreakdownRow]:
    """Walk the transactions in order: the free allowance covers the first ``free_events``
    events and/or the first ``free_total`` units, ending at whichever is reached first. Every
    transaction with a paid part above zero owes ``rate`` on that part plus the fixed fee,
    clamped to min/max; wholly free or zero-value transactions owe nothing."""
    rate = spec.rate / _HUNDRED
    has_allowance = spec.free_events > 0 or spec.free_total is not None
    remaining = spec.free_total
    free_units = paid_units = adjustment = _ZERO
    paid_count = clamped_count = 0
    for index, value in enumerate(transactions):
        free = _ZERO
        if has_allowance and (spec.free_events == 0 or index < spec.free_events):
            free = value if remaining is None else min(value, remaining)
            if remaining is not None:
                remaining -= free
        paid = value - free
        free_units += free
        if paid <= 0:
            continue
        paid_units += paid
        paid_count += 1
        fee = paid * rate + spec.fixed_amount
        clamped = fee
        if spec.min_fee is not None:
            clamped = max(clamped, spec.min_fee)
        if spec.max_fee is not None:
            clamped = min(clamped, spec.max_fee)
        if clamped != fee:
            clamped_count += 1
            adjustment += clamped - fee
    rows = [_row("free units", free_units, _ZERO)] if has_allowance else []
    rows.append(_row("percentage", paid_units, rate))
    if spec.fixed_amount > 0:
        rows.append(_row("fixed fees", Decimal(paid_count), spec.fixed_amount))
    if clamped_count:
        label = "per-transaction min/max adjustment"
        rows.append(_row(label, Decimal(clamped_count), _ZERO, adjustment))
    return rows


# --- parsing and validation ------------------------------------------------------------------


class _Errors(dict[str, list[str]]):
    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)


def _parsed_or_raise(model: str, properties: Mapping[str, Any]) -> _Spec:
    spec, errors = _parse(model, properties)
    if spec is None:
        field, messages = next(iter(errors.items()))
        raise PricingError(field, messages[0])
    return spec


def _parse(model: str, properties: Mapping[str, Any]) -> tuple[_Spec | None, _Errors]:
    errors = _Errors()
    if model not in CHARGE_MODELS:
        expected = ", ".join(CHARGE_MODELS)
        errors.add("charge_model", f"Unknown charge model {model!r}; expected one of: {expected}.")
        return None, errors
    if not isinstance(properties, Mapping):
        errors.add("properties", f"The {model} model's properties must be an object.")
        return None, errors
    _check_keys(properties, _KEYS[model] + GROUPING_KEYS, "", f"the {model} model", errors)
    _check_grouping(properties, errors)
    spec: _Spec | None
    if model in ("graduated", "volume"):
        key = f"{model}_ranges"
        spec = _parse_tiers(properties.get(key), key, errors)
    elif model == "percentage":
        spec = _parse_percentage(properties, errors)
    else:
        spec = _parse_unit_price(model, properties, errors)
    return (None if errors else spec), errors


def _check_grouping(properties: Mapping[str, Any], errors: _Errors) -> None:
    for name in GROUPING_KEYS:
        keys = properties.get(name)
        if keys is None:
            continue
        if (
            not isinstance(keys, list | tuple)
            or not all(isinstance(k, str) and k.strip() for k in keys)
            or len(set(keys)) != len(keys)
        ):
            errors.add(
                name,
                f'{name} must be a list of distinct event property names, e.g. ["region"].',
            )


def _check_keys(
    raw: Mapping[Any, Any], allowed: tuple[str, ...], prefix: str, owner: str, errors: _Errors
) -> None:
    for key in raw:
        if key not in allowed:
            errors.add(
                f"{prefix}{key}",
                f"Unknown property {key!r} for {owner}; expected: {', '.join(allowed)}.",
            )


def _number(
    raw: Mapping[str, Any],
    key: str,
    errors: _Errors,
    *,
    path: str = "",
    name: str = "",
    required: bool = False,
    positive: bool = False,
) -> Decimal | None:
    """Read a non-negative number (``positive``: greater than 0); ``None`` if absent or bad."""
    path, name = path or key, name or key
    value = raw.get(key)
    if value is None:
        if required:
            errors.add(path, f"{name} is required.")
        return None
    number = decimal_or_none(value)
    if number is None:
        errors.add(path, f"{name} must be a decimal number; got {value!r}.")
    elif positive and number <= 0:
        errors.add(path, f"{name} must be greater than 0; got {_plain(number)}.")
    elif number < 0:
        errors.add(path, f"{name} must not be negative; got {_plain(number)}.")
    else:
        return number
    return None


def _parse_unit_price(model: str, raw: Mapping[str, Any], errors: _Errors) -> UnitPriceSpec | None:
    amount = _number(raw, "amount", errors, required=True)
    free_units = _number(raw, "free_units", errors) or _ZERO
    size = None
    if model == "package":
        size = _number(raw, "package_size", errors, required=True, positive=True)
        if size is None:
            return None
    return None if amount is None else UnitPriceSpec(amount, free_units, size)


def _parse_percentage(raw: Mapping[str, Any], errors: _Errors) -> PercentageSpec | None:
    rate = _number(raw, "rate", errors, required=True)
    if rate is not None and rate > _HUNDRED:
        errors.add("rate", f"rate must be between 0 and 100 (a percentage); got {_plain(rate)}.")
    fixed = _number(raw, "fixed_amount", errors) or _ZERO
    free_events = _number(raw, "free_units_per_events", errors) or _ZERO
    if free_events != free_events.to_integral_value():
        errors.add(
            "free_units_per_events",
            f"free_units_per_events must be a whole number of events; got {_plain(free_events)}.",
        )
    free_total = _number(raw, "free_units_per_total_aggregation", errors) or None
    low = _number(raw, "per_transaction_min_amount", errors)
    high = _number(raw, "per_transaction_max_amount", errors)
    if low is not None and high is not None and low > high:
        errors.add(
            "per_transaction_min_amount",
            f"per_transaction_min_amount ({_plain(low)}) must not exceed "
            f"per_transaction_max_amount ({_plain(high)}).",
        )
    if rate is None:
        return None
    return PercentageSpec(rate, fixed, int(free_events), free_total, low, high)


def _parse_tiers(raw_tiers: object, key: str, errors: _Errors) -> tuple[TierSpec, ...]:
    if raw_tiers is None:
        errors.add(key, f"{key} is required.")
        return ()
    if not isinstance(raw_tiers, list | tuple) or not raw_tiers:
        errors.add(key, f"{key} must be a non-empty list of tiers.")
        return ()
    tiers: list[TierSpec] = []
    previous_to: Decimal | None = None  # None when the previous tier's end is unknown or open
    last = len(raw_tiers) - 1
    for index, raw in enumerate(raw_tiers):
        n, prefix = index + 1, f"{key}[{index}]"
        if not isinstance(raw, Mapping):
            errors.add(prefix, f"Tier {n} must be an object with {', '.join(_TIER_KEYS)}.")
            previous_to = None
            continue
        _check_keys(raw, _TIER_KEYS, f"{prefix}.", f"Tier {n}", errors)
        start, end, per_unit, flat = (
            _number(
                raw,
                field,
                errors,
                path=f"{prefix}.{field}",
                name=f"Tier {n} {field}",
                required=field in ("from_value", "per_unit_amount"),
            )
            for field in _TIER_KEYS
        )
        flat = flat or _ZERO
        if start is not None and index == 0 and start != 0:
            errors.add(f"{prefix}.from_value", f"Tier 1 must start at 0; got {_plain(start)}.")
        elif start is not None and previous_to is not None and start - previous_to not in (0, 1):
            kind = "overlap" if start < previous_to else "gap"
            errors.add(
                f"{prefix}.from_value",
                f"Tier {n} must start at {_plain(previous_to)} or {_plain(previous_to + 1)} "
                f"(right after tier {index} ends at {_plain(previous_to)}); "
                f"got {_plain(start)} ({kind}).",
            )
        if start is not None and end is not None and end <= start:
            errors.add(
                f"{prefix}.to_value",
                f"Tier {n} to_value ({_plain(end)}) must be greater than its from_value "
                f"({_plain(start)}).",
            )
        if raw.get("to_value") is None and index != last:
            errors.add(
                f"{prefix}.to_value",
                f"Tier {n} has no to_value, but only the last tier may be open-ended.",
            )
        if raw.get("to_value") is not None and index == last:
            errors.add(
                f"{prefix}.to_value",
                f"Tier {n} is the last tier and must be open-ended (to_value null), "
                "so that all usage is priced.",
            )
        if start is not None and per_unit is not None:
            lower = _ZERO if index == 0 else (previous_to or _ZERO)
            tiers.append(TierSpec(start, end, per_unit, flat, lower))
        previous_to = end
    return tuple(tiers)


# --- numbers ---------------------------------------------------------------------------------


def _quantity(value: object, path: str) -> Decimal:
    number = decimal_or_none(value)
    if number is None:
        raise PricingError(path, f"{path} must be a decimal number; got {value!r}.")
    if number < 0:
        raise PricingError(path, f"{path} must not be negative; got {_plain(number)}.")
    return number


def _text(value: Decimal) -> str:
    """JSON-safe text of a Decimal, never in exponent form, keeping its trailing zeros."""
    return format(value, "f")


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _grouped(value: Decimal) -> str:
    whole, _, fraction = _plain(value).partition(".")
    return f"{int(whole):,}" + (f".{fraction}" if fraction else "")
