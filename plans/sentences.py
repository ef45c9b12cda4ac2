"""The catalog in sentences: a plan version, a price and an override as finance staff read them.

Pure: no ORM, settings or clock; callers pass plain values. Money is in the currency's own form
(``format_money``: $49.00, ¥500; unit prices keep their significant decimals, $0.002), counts
are grouped (10,000), and a moment is written with its time zone. No amount is computed here.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from billing_site.core.money import format_money
from billing_site.core.numbers import decimal_or_none, grouped_number

INTERVAL_WORDS = {"week": "week", "month": "month", "quarter": "quarter", "year": "year"}
RESET_WORDS = {
    "billing": "per billing period",
    "day": "per day",
    "week": "per week",
    "month": "per month",
    "never": "in total",
}


def count_text(value: Any) -> str:
    """A count as people write it: 10,000 and 0.5 (no exponent, no trailing zeros)."""
    if decimal_or_none(value) is None:
        return "—" if value in (None, "") else str(value)
    return grouped_number(value)


def money_text(value: Any, currency: str) -> str:
    """An amount rounded to the currency's minor unit: $49.00, ¥500."""
    number = decimal_or_none(value)
    return "—" if number is None else format_money(number, currency)


def unit_price_text(value: Any, currency: str) -> str:
    """A unit price with its significant decimals: $0.002."""
    number = decimal_or_none(value)
    return "—" if number is None else format_money(number, currency, unit_price=True)


def _is_zero(value: Any) -> bool:
    number = decimal_or_none(value)
    return number is None or number == 0


def _tier_span(tier: Mapping[str, Any]) -> str:
    if tier.get("to_value") in (None, ""):
        return f"{count_text(tier.get('from_value'))} and up"
    return f"{count_text(tier.get('from_value'))}–{count_text(tier.get('to_value'))}"


def _tier_price(tier: Mapping[str, Any], currency: str) -> str:
    per_unit, flat = tier.get("per_unit_amount"), tier.get("flat_amount")
    if _is_zero(per_unit) and _is_zero(flat):
        return "free"
    parts = [] if _is_zero(per_unit) else [f"{unit_price_text(per_unit, currency)} per unit"]
    if not _is_zero(flat):
        parts.append(f"{money_text(flat, currency)} flat")
    return " + ".join(parts)


def _graduated(tiers: Sequence[Mapping[str, Any]], currency: str) -> str:
    """ "0–10,000 free, then $0.002 per unit": each tier prices its own units."""
    parts = []
    for index, tier in enumerate(tiers):
        tier_price = _tier_price(tier, currency)
        if index == 0:
            parts.append(f"{_tier_span(tier)} {tier_price}")
            continue
        upto = (
            "" if tier.get("to_value") in (None, "") else f" up to {count_text(tier['to_value'])}"
        )
        parts.append(f"then {tier_price}{upto}")
    return ", ".join(parts)


def _volume(tiers: Sequence[Mapping[str, Any]], currency: str) -> str:
    listed = ", ".join(f"{_tier_span(t)} {_tier_price(t, currency)}" for t in tiers)
    return f"all units at the tier the total reaches ({listed})"


def _percentage(props: Mapping[str, Any], currency: str) -> str:
    text = f"{count_text(props.get('rate'))}%"
    if not _is_zero(props.get("fixed_amount")):
        text += f" + {money_text(props['fixed_amount'], currency)}"
    text += " of each transaction"
    if not _is_zero(props.get("free_units_per_events")):
        text += f", first {count_text(props['free_units_per_events'])} transactions free"
    if not _is_zero(props.get("free_units_per_total_aggregation")):
        free = money_text(props["free_units_per_total_aggregation"], currency)
        text += f", first {free} free"
    low, high = props.get("per_transaction_min_amount"), props.get("per_transaction_max_amount")
    if decimal_or_none(low) is not None:
        text += f", at least {money_text(low, currency)}"
    if decimal_or_none(high) is not None:
        text += f", at most {money_text(high, currency)}"
    return text


def price_sentence(charge_model: str, properties: Mapping[str, Any], currency: str) -> str:
    """A charge's price in words, e.g. "$0.01 per unit, first 700 free" or
    "0–10,000 free, then $0.002 per unit"."""
    props = properties if isinstance(properties, Mapping) else {}
    if not props:
        return "not billed"
    free = props.get("free_units")
    free_text = "" if _is_zero(free) else f", first {count_text(free)} free"
    if charge_model == "standard":
        return f"{unit_price_text(props.get('amount'), currency)} per unit{free_text}"
    if charge_model == "package":
        size = count_text(props.get("package_size"))
        return f"{money_text(props.get('amount'), currency)} per {size} units{free_text}"
    if charge_model == "percentage":
        return _percentage(props, currency)
    tiers = [t for t in props.get(f"{charge_model}_ranges") or [] if isinstance(t, Mapping)]
    if not tiers:
        return "no tiers"
    return _graduated(tiers, currency) if charge_model == "graduated" else _volume(tiers, currency)


@dataclass(frozen=True)
class ChargeLine:
    """A charge as the plans list names it."""

    name: str
    charge_model: str
    properties: Mapping[str, Any]
    filter_count: int = 0


def plan_sentence(
    *,
    base_fee: Decimal,
    currency: str,
    interval: str,
    in_advance: bool,
    charges: Sequence[ChargeLine],
) -> str:
    """A version in one sentence: "$49.00 a month (USD), paid in advance; API calls: 0–1,000
    free, then $0.002 per unit; Storage: $0.10 per unit"."""
    every = INTERVAL_WORDS.get(interval, interval)
    paid = "in advance" if in_advance else "in arrears"
    text = f"{money_text(base_fee, currency)} a {every} ({currency}), paid {paid}"
    for charge in charges:
        text += (
            f"; {charge.name}: {price_sentence(charge.charge_model, charge.properties, currency)}"
        )
        if charge.filter_count:
            plural = "s" if charge.filter_count != 1 else ""
            text += f" ({charge.filter_count} filter{plural} priced apart)"
    return text if charges else f"{text}; no usage charges"


def moment_text(moment: datetime) -> str:
    """A moment with its time zone: "2027-01-30 UTC" at midnight, else "2027-01-30 14:30 UTC"."""
    zone = moment.tzname() or "UTC"
    if moment.timetz().replace(tzinfo=None) == time(0):
        return f"{moment:%Y-%m-%d} {zone}"
    return f"{moment:%Y-%m-%d %H:%M} {zone}"


def window_text(valid_from: datetime | None, valid_until: datetime | None) -> str:
    """ " from 2026-12-01 UTC until 2027-01-30 UTC"; empty for an override without end dates."""
    text = ""
    if valid_from is not None:
        text += f" from {moment_text(valid_from)}"
    if valid_until is not None:
        text += f" until {moment_text(valid_until)}"
    return text


def _feature_value(value: Mapping[str, Any]) -> str:
    if "enabled" in value:
        return "enabled" if value["enabled"] else "disabled"
    if "value" in value:
        return str(value["value"])
    parts = []
    if "limit" in value:
        limit = value["limit"]
        parts.append("unlimited" if limit is None else f"limit {count_text(limit)}")
    if "reset_period" in value:
        parts.append(RESET_WORDS.get(value["reset_period"], value["reset_period"]))
    if "cap" in value:
        parts.append(f"{value['cap']} cap")
    return " ".join(parts) or "unchanged"


ALLOWANCE_WORDS = {
    "initial_amount": "grants {} at the start",
    "refill_amount": "refills {} each period",
    "expiry_days": "expiring after {} days",
    "priority": "burn priority {}",
}


def _allowance(value: Mapping[str, Any]) -> str:
    parts = [
        words.format(count_text(value[key]))
        for key, words in ALLOWANCE_WORDS.items()
        if value.get(key) is not None
    ]
    if "renew_on_billing" in value:
        parts.append("renews each billing period" if value["renew_on_billing"] else "no renewal")
    if "billing_visible" in value:
        parts.append("shown on invoices" if value["billing_visible"] else "not on invoices")
    return ", ".join(parts) or "as on the plan"


def override_sentence(
    *,
    kind: str,
    value: Mapping[str, Any],
    currency: str,
    target: str = "",
    charge_model: str = "",
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> str:
    """An override in one sentence, e.g. "API calls: 0–10,000 free, then $0.002 per unit until
    2027-01-30 UTC" or "Base fee: 20% off". ``target`` names the charge, feature or credits;
    ``charge_model`` is the charge's (an override may set its own)."""
    value = value if isinstance(value, Mapping) else {}
    discount = value.get("discount_percent")
    off = f"{count_text(discount)}% off" if discount is not None else ""
    if kind == "base_fee":
        label = "Base fee"
        what = off or money_text(value.get("amount"), currency)
    elif kind == "charge":
        label = target or "Charge"
        parts = []
        if "properties" in value:
            model = value.get("charge_model") or charge_model
            parts.append(price_sentence(model, value["properties"], currency))
        if "min_amount" in value:
            parts.append(f"minimum {money_text(value['min_amount'], currency)}")
        if off:
            parts.append(off)
        what = ", ".join(parts)
    elif kind == "feature":
        label, what = target or "Feature", _feature_value(value)
    else:
        label = f"Credits{f' of {target}' if target else ''}"
        what = _allowance(value)
    return f"{label}: {what}{window_text(valid_from, valid_until)}"
