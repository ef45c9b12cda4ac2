"""Credits applied to an invoice's usage lines. Pure: no ORM, settings or clock.

Invariants
- Per metric, usage is covered in line order: first the units the plan feature includes (no
  credit touches them), then credit units in burn order (the caller lists them so: units already
  burned in real time for the period first, then the grants' balances in burn order).
- For every usage line, ``included + covered + billed = usage``; no grant gives more units than
  it lists, and no line is covered beyond its usage.
- Covered units are valued at the marginal prices they would have cost on the line's own charge:
  ``price(start + covered) - price(start)``, ``start`` being the units before them on that line.
- A billing-visible grant shows as a negative ``credit`` line of that value right after the
  usage line it covers; an invisible one lowers the usage line instead (fewer units billed, the
  arithmetic in its breakdown). Either way the usage line's breakdown lists every grant's units,
  so finalization knows what to burn, and a line is rounded once (``core.money.quantize``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from billing_site.core.money import quantize
from invoices.calculations import (
    _EXACT,
    CREDIT,
    USAGE,
    ChargeUsage,
    LineDraft,
    _line,
    _plain,
    _precise,
)
from plans.pricing import price

_ZERO = Decimal(0)


@dataclass(frozen=True)
class CreditUnits:
    """Units of a grant available to cover usage of a metric, in burn order. ``burned``: units
    the grant already gave in real time for this period (entitlement consumes), not to burn
    again."""

    grant_id: int
    metric_code: str
    units: Decimal
    billing_visible: bool
    description: str
    burned: bool = False


@dataclass(frozen=True)
class CreditUse:
    grant_id: int
    metric_code: str
    units: Decimal
    value: Decimal
    burned: bool = False


@dataclass(frozen=True)
class CreditApplication:
    lines: tuple[LineDraft, ...]
    uses: tuple[CreditUse, ...]

    def units_covered(self) -> dict[str, Decimal]:
        """Units per metric that credits cover, real-time burns included."""
        out: dict[str, Decimal] = {}
        for use in self.uses:
            out[use.metric_code] = out.get(use.metric_code, _ZERO) + use.units
        return out


def units_value(usage: ChargeUsage, low: Decimal, high: Decimal) -> Decimal:
    """What units ``(low, high]`` of the usage's charge cost: the marginal tier prices."""

    def cost(units: Decimal) -> Decimal:
        if units <= _ZERO:
            return _ZERO
        return price(usage.charge_model, usage.properties, units).amount  # type: ignore[arg-type]

    return cost(high) - cost(low)


def credits_apply(
    *,
    usages: Sequence[ChargeUsage],
    lines: Sequence[LineDraft],
    credits: Sequence[CreditUnits],
    currency: str,
    included: Mapping[str, Decimal] | None = None,
) -> CreditApplication:
    """Apply credit units (in burn order) to the usage lines they cover.

    ``usages`` are the priced results the usage lines of ``lines`` came from, in the same order
    (as ``calculations.charge_lines`` makes them); ``included`` the units per metric code the
    plan includes for the period. Returns the new lines (usage lines replaced, credit lines after
    the usage line they cover) and the units each grant gave, for the ledger.
    """
    remaining = [c.units for c in credits]
    included_left = dict(included or {})
    pending = iter(usages)
    out: list[LineDraft] = []
    uses: list[CreditUse] = []
    for line in lines:
        if line.kind != USAGE or line.charge_id is None:
            out.append(line)
            continue
        usage = next(pending)
        units = max(usage.units, _ZERO)
        free = min(included_left.get(usage.metric_code, _ZERO), units)
        if usage.metric_code in included_left:
            included_left[usage.metric_code] -= free
        start = free
        covered = _ZERO
        hidden_units = _ZERO
        hidden_value = _ZERO
        notes: list[dict[str, Any]] = []
        credit_lines: list[LineDraft] = []
        for index, credit in enumerate(credits):
            if credit.metric_code != usage.metric_code or remaining[index] <= _ZERO:
                continue
            take = min(remaining[index], units - start - covered)
            if take <= _ZERO:
                break
            low = start + covered
            value = units_value(usage, low, low + take)
            covered += take
            remaining[index] -= take
            uses.append(CreditUse(credit.grant_id, credit.metric_code, take, value, credit.burned))
            notes.append(
                {
                    "grant_id": credit.grant_id,
                    "units": _plain(take),
                    "span": _units_span(low, take),
                    "value": format(value, "f"),
                    "visible": credit.billing_visible,
                    "burned_in_real_time": credit.burned,
                }
            )
            if credit.billing_visible:
                credit_lines.append(_credit_line(line, credit, take, value, low, currency))
            else:
                hidden_units += take
                hidden_value += value
        out.append(
            _covered_usage_line(line, units, free, notes, hidden_units, hidden_value, currency)
            if notes
            else line
        )
        out.extend(credit_lines)
    return CreditApplication(lines=tuple(out), uses=tuple(uses))


def _units_span(low: Decimal, take: Decimal) -> str:
    """Which units: "units 501 to 800" (whole units), else "units after 0.5 up to 2"."""
    if low == low.to_integral_value() and take == take.to_integral_value():
        return f"units {_plain(low + 1)} to {_plain(low + take)}"
    return f"units after {_plain(low)} up to {_plain(low + take)}"


def _credit_line(
    line: LineDraft,
    credit: CreditUnits,
    take: Decimal,
    value: Decimal,
    low: Decimal,
    currency: str,
) -> LineDraft:
    return _line(
        kind=CREDIT,
        description=f"{credit.description}: {_plain(take)} units of {line.description}",
        quantity=take,
        unit_amount=_precise(_EXACT.divide(-value, take)) if value else _ZERO,
        amount=-value if value else _ZERO,  # free units covered: 0.00, not -0.00
        currency=currency,
        start=line.line_start,
        end=line.line_end,
        breakdown={
            "grant_id": credit.grant_id,
            "units": _plain(take),
            "covers_units": f"{_plain(low)}-{_plain(low + take)}",
            "value": format(value, "f"),
            "formula": (
                f"{_plain(take)} units ({_units_span(low, take)} of the usage) at the prices of "
                "their tiers, credited"
            ),
            "burned_in_real_time": credit.burned,
        },
        version_id=line.version_id,
        charge_id=line.charge_id,
        metric_code=line.metric_code,
        group_key=line.group_key,
    )


def _covered_usage_line(
    line: LineDraft,
    units: Decimal,
    free: Decimal,
    notes: list[dict[str, Any]],
    hidden_units: Decimal,
    hidden_value: Decimal,
    currency: str,
) -> LineDraft:
    breakdown: dict[str, Any] = {
        **line.breakdown,
        "usage_units": _plain(units),
        "included_units": _plain(free),
        "credits": notes,
    }
    if hidden_units == _ZERO:
        return replace(line, breakdown=breakdown)
    amount = line.amount_precise - hidden_value
    billed = line.quantity - hidden_units
    breakdown |= {
        "credited_units": _plain(hidden_units),
        "credited_amount": format(hidden_value, "f"),
        "formula": (
            f"{_plain(units)} units - {_plain(hidden_units)} covered by credits = "
            f"{_plain(billed)} billed; {format(line.amount_precise.normalize(), 'f')} - "
            f"{format(hidden_value.normalize(), 'f')} = {format(amount.normalize(), 'f')}"
        ),
    }
    return replace(
        line,
        quantity=billed,
        unit_amount=_ZERO if billed == _ZERO else _precise(_EXACT.divide(amount, billed)),
        amount_precise=_precise(amount),
        amount=quantize(amount, currency),
        breakdown=breakdown,
    )
