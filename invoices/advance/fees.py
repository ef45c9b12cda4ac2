"""Pay-in-advance fee math: a period's running state + one event -> the new state and its fee.

Pure: no ORM, settings or clock.

Invariants
- A period of a charge keeps a running state: the metric's value so far (events counted, the
  sum of values, or the distinct values present) and its high-water mark, the highest value
  it reached. Only an increase of the high-water mark is billed, so a sum that goes down and
  up again, or a unique value removed and added again, is never billed twice; a period's fees
  add up to the price of its high-water mark.
- The fee of an increase from ``h`` to ``h'`` is ``price(h') - price(h)`` through
  ``plans.pricing``, so graduated tiers continue from the period's running total and free units
  are used up by the first events. Nothing billed yet prices as 0, which puts a first tier's
  flat amount on the period's first fee.
- Exact and unrounded, like ``plans.pricing``: the invoice line rounds each fee once. The
  breakdown is the tier-by-tier difference of the two prices, so its rows sum to the fee.
- The metric's rounding applies to the high-water mark, as it applies once to a period's
  result: with ``ceil``, 0.3 then 0.3 more bill one unit with the first event and nothing with
  the second.
- Events are applied in the order they were stored (their id), as they arrive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from metering.aggregation import round_quantity
from plans.charge_filters import ADVANCE_MODELS
from plans.pricing import BreakdownRow, ChargeModel, ChargeResult, PricingError, price

_ZERO = Decimal(0)
_NOTHING = ChargeResult(amount=_ZERO, units=_ZERO, breakdown=())

COUNT, SUM, UNIQUE_COUNT = "count", "sum", "unique_count"


@dataclass(frozen=True)
class RunningState:
    """A charge's period so far: the metric's value, its high-water mark and, for
    unique_count, the distinct values present."""

    total: Decimal = _ZERO
    high_water: Decimal = _ZERO
    values: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class AdvanceEvent:
    """What one stored event does to the metric: ``value`` is 1 for count, the (weighted)
    number for sum, the text value for unique_count; ``removes`` for a unique value's
    ``operation_type: remove``."""

    value: Decimal | str
    removes: bool = False


@dataclass(frozen=True)
class AdvanceFeeResult:
    units: Decimal  # the increase of the high-water mark that is billed
    amount: Decimal  # exact
    breakdown: tuple[BreakdownRow, ...]
    high_water_before: Decimal
    price_after: ChargeResult  # the price of the new mark: the next event's price before


def state_after(aggregation: str, state: RunningState, event: AdvanceEvent) -> RunningState:
    """The running state once ``event`` is applied."""
    if aggregation == UNIQUE_COUNT:
        text = str(event.value)
        values = state.values - {text} if event.removes else state.values | {text}
        total = Decimal(len(values))
    elif aggregation == SUM:
        values, total = state.values, state.total + Decimal(event.value)
    elif aggregation == COUNT:
        values, total = state.values, state.total + 1
    else:
        raise ValueError(f"A {aggregation} metric cannot be billed in advance.")
    return RunningState(total=total, high_water=max(state.high_water, total), values=values)


def _difference(after: ChargeResult, before: ChargeResult) -> tuple[BreakdownRow, ...]:
    """Row by row (rows are the same tiers, matched by label), what ``after`` adds to
    ``before``; rows that add nothing are left out."""
    earlier = {row.label: row for row in before.breakdown}
    rows = []
    for row in after.breakdown:
        old = earlier.get(row.label)
        if old is not None:
            row = BreakdownRow(
                label=row.label,
                units=row.units - old.units,
                unit_price=row.unit_price,
                flat_amount=row.flat_amount - old.flat_amount,
                amount=row.amount - old.amount,
            )
        if row.units or row.amount:
            rows.append(row)
    return tuple(rows)


def advance_fee(
    *,
    charge_model: ChargeModel,
    properties: Mapping[str, Any],
    aggregation: str,
    state: RunningState,
    event: AdvanceEvent,
    rounding: str = "none",
    rounding_precision: int = 0,
    price_before: ChargeResult | None = None,
) -> tuple[RunningState, AdvanceFeeResult | None]:
    """The state after ``event`` and its fee, or None when it does not raise the high-water
    mark. ``price_before`` may give the price of the current mark (the last fee's
    ``price_after``; used when its units are the mark). Raises ``plans.pricing.PricingError``
    for invalid properties, or a model whose
    later units could lower the price of earlier ones (volume, percentage: an override may
    set one on a charge paid in advance)."""
    if charge_model not in ADVANCE_MODELS:
        raise PricingError("charge_model", f"A {charge_model} charge is not billed in advance.")
    after = state_after(aggregation, state, event)
    billed_before = round_quantity(state.high_water, rounding, rounding_precision)
    billed_after = round_quantity(after.high_water, rounding, rounding_precision)
    if billed_after <= billed_before:
        return after, None
    if not billed_before:
        before_price = _NOTHING
    elif price_before is not None and price_before.units == billed_before:
        before_price = price_before
    else:
        before_price = price(charge_model, properties, billed_before)
    after_price = price(charge_model, properties, billed_after)
    return after, AdvanceFeeResult(
        units=billed_after - billed_before,
        amount=after_price.amount - before_price.amount,
        breakdown=_difference(after_price, before_price),
        high_water_before=billed_before,
        price_after=after_price,
    )
