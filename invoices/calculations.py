"""Invoice arithmetic: from what a period used and what the plan says, to priced lines.

Pure: no ORM, settings or clock. Selectors build the inputs (plain frozen dataclasses), services
persist the ``LineDraft``s this module returns.

Invariants
- Exact until the line: amounts are computed with ``plans.pricing`` (exact, unrounded) and each
  line is rounded once, half-up, to the currency's minor unit (``core.money.quantize``); a line
  keeps both. The invoice total is the sum of the rounded lines, nothing else.
- Proration by days: ``days(a, b)`` counts the calendar days (UTC) from the day of ``a``
  (included) to the day of ``b`` (excluded), so days add up across adjacent windows. A part of a
  period bills ``fee * days(billed) / days(full period)``: a calendar-monthly plan of 100 started
  on the 15th of a 31-day month bills 100 x 17/31.
- Trial days are not billed: the billed window of the base fee starts when the trial ends.
- ``min_amount`` true-up: ``minimum * ratio - usage`` as its own line when positive (the minimum
  prorated like the base fee on a partial period), nothing when usage reaches it.
- Credits (``invoices.credit_math``) cover the units beyond what the plan includes, in burn
  order, and are not billed: a billing-visible credit shows as a negative line worth the price
  of the units it covered; an invisible one lowers the usage line (its breakdown says how).
- Adjustments for late usage bill the difference between the period's usage now and what was
  already billed for it, so however many times late usage is found, the period is billed once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any

from billing_site.core.money import quantize
from plans.pricing import ChargeResult, price

_ZERO = Decimal(0)
_EXACT = Context(prec=200)
# A prorated amount is a ratio of days; 20 places is far below any minor unit and exact enough.
_PRECISE_PLACES = Decimal("1e-20")

BASE_FEE, USAGE, CREDIT, MINIMUM, ADJUSTMENT = (
    "base_fee",
    "usage",
    "credit",
    "minimum",
    "adjustment",
)


@dataclass(frozen=True)
class LineDraft:
    kind: str
    description: str
    quantity: Decimal
    unit_amount: Decimal
    amount_precise: Decimal
    amount: Decimal
    line_start: datetime
    line_end: datetime
    breakdown: Mapping[str, Any] = field(default_factory=dict)
    version_id: int | None = None
    charge_id: int | None = None
    metric_code: str = ""
    group_key: str = ""
    event_count: int = 0
    events_digest: str = ""
    source_invoice_id: int | None = None


@dataclass(frozen=True)
class Window:
    """The part of a period a version was in force, and the full period it belongs to."""

    start: datetime
    end: datetime
    full_start: datetime
    full_end: datetime


@dataclass(frozen=True)
class ChargeUsage:
    """One priced result of a charge: its whole usage, or one filter/group of it."""

    charge_id: int
    version_id: int
    metric_code: str
    description: str
    charge_model: str
    properties: Mapping[str, Any]
    min_amount: Decimal | None
    units: Decimal
    event_count: int
    events_digest: str
    event_values: Sequence[Decimal] = ()
    group_key: str = ""
    # Already priced (a filter's or group's result, priced by ``plans.selectors``): kept as is.
    priced: ChargeResult | None = None
    charge_description: str = ""  # the charge's own name, when ``description`` names a part


@dataclass(frozen=True)
class BilledSoFar:
    """What earlier invoices billed for one (finalized period, charge, group): the usage line
    plus any adjustments since."""

    source_invoice_id: int
    charge_id: int
    group_key: str
    metric_code: str
    amount_precise: Decimal
    event_count: int


def days_between(start: datetime, end: datetime) -> int:
    """Calendar days (UTC) from the day of ``start`` (included) to the day of ``end``
    (excluded)."""
    return (end.astimezone(UTC).date() - start.astimezone(UTC).date()).days


def proration_ratio(billed_start: datetime, billed_end: datetime, window: Window) -> Decimal:
    """Share of the full period that ``[billed_start, billed_end)`` covers, by days."""
    if billed_end <= billed_start:
        return _ZERO
    full = days_between(window.full_start, window.full_end)
    billed = days_between(billed_start, billed_end)
    if full <= 0 or billed >= full:
        return Decimal(1)
    return _EXACT.divide(Decimal(billed), Decimal(full))


def _precise(value: Decimal) -> Decimal:
    return value.quantize(_PRECISE_PLACES, context=_EXACT)


def _line(
    *,
    kind: str,
    description: str,
    quantity: Decimal,
    unit_amount: Decimal,
    amount: Decimal,
    currency: str,
    start: datetime,
    end: datetime,
    **extra: Any,
) -> LineDraft:
    return LineDraft(
        kind=kind,
        description=description,
        quantity=quantity,
        unit_amount=unit_amount,
        amount_precise=_precise(amount),
        amount=quantize(amount, currency),
        line_start=start,
        line_end=end,
        **extra,
    )


def base_fee_line(
    *,
    fee: Decimal,
    currency: str,
    window: Window,
    trial_ends_at: datetime | None,
    description: str,
    version_id: int | None = None,
) -> LineDraft | None:
    """The base fee for the window, less trial days, prorated by days; None when nothing of the
    window is billable (all trial) or the fee is zero."""
    billed_start = window.start
    if trial_ends_at is not None and trial_ends_at > billed_start:
        billed_start = min(trial_ends_at, window.end)
    ratio = proration_ratio(billed_start, window.end, window)
    if fee == _ZERO or ratio == _ZERO:
        return None
    amount = _EXACT.multiply(fee, ratio)
    full_days = days_between(window.full_start, window.full_end)
    billed_days = days_between(billed_start, window.end)
    breakdown: dict[str, Any] = {"fee": format(fee, "f")}
    if ratio != 1:
        breakdown |= {
            "days_billed": billed_days,
            "days_in_period": full_days,
            "formula": f"{format(fee, 'f')} x {billed_days}/{full_days}",
        }
        description = f"{description} ({billed_days} of {full_days} days)"
    return _line(
        kind=BASE_FEE,
        description=description,
        quantity=_EXACT.divide(Decimal(billed_days), Decimal(full_days)) if ratio != 1 else 1,
        unit_amount=fee,
        amount=amount,
        currency=currency,
        start=billed_start,
        end=window.end,
        breakdown=breakdown,
        version_id=version_id,
    )


def price_charge(usage: ChargeUsage) -> ChargeResult:
    if usage.priced is not None:
        return usage.priced
    return price(usage.charge_model, usage.properties, usage.units, usage.event_values)  # type: ignore[arg-type]


def usage_line(*, usage: ChargeUsage, currency: str, window: Window) -> LineDraft:
    """One line per priced result, keeping the tier breakdown and which events it priced."""
    result = price_charge(usage)
    unit_amount = _ZERO if result.units == _ZERO else _EXACT.divide(result.amount, result.units)
    return _line(
        kind=USAGE,
        description=usage.description,
        quantity=result.units,
        unit_amount=_precise(unit_amount),
        amount=result.amount,
        currency=currency,
        start=window.start,
        end=window.end,
        breakdown={"charge_model": usage.charge_model, **result.as_dict()},
        version_id=usage.version_id,
        charge_id=usage.charge_id,
        metric_code=usage.metric_code,
        group_key=usage.group_key,
        event_count=usage.event_count,
        events_digest=usage.events_digest,
    )


def minimum_line(
    *, usage: ChargeUsage, usage_amount: Decimal, currency: str, window: Window
) -> LineDraft | None:
    """The true-up to the charge's spending minimum (prorated on a partial period), or None."""
    if usage.min_amount is None or usage.min_amount == _ZERO:
        return None
    ratio = proration_ratio(window.start, window.end, window)
    minimum = _EXACT.multiply(usage.min_amount, ratio)
    shortfall = _EXACT.subtract(minimum, usage_amount)
    if shortfall <= _ZERO:
        return None
    breakdown: dict[str, Any] = {
        "minimum": format(usage.min_amount, "f"),
        "usage_amount": format(usage_amount, "f"),
        "formula": f"{format(usage.min_amount, 'f')} - {format(usage_amount, 'f')}",
    }
    if ratio != 1:
        days = days_between(window.start, window.end)
        full = days_between(window.full_start, window.full_end)
        breakdown["formula"] = (
            f"{format(usage.min_amount, 'f')} x {days}/{full} - {format(usage_amount, 'f')}"
        )
    return _line(
        kind=MINIMUM,
        description=f"Minimum spend true-up: {usage.description}",
        quantity=Decimal(1),
        unit_amount=_precise(shortfall),
        amount=shortfall,
        currency=currency,
        start=window.start,
        end=window.end,
        breakdown=breakdown,
        version_id=usage.version_id,
        charge_id=usage.charge_id,
        metric_code=usage.metric_code,
        group_key=usage.group_key,
    )


def charge_lines(
    *, usages: Sequence[ChargeUsage], currency: str, window: Window
) -> list[LineDraft]:
    """Usage lines, each followed by its minimum true-up when usage falls short of it. A charge
    with a minimum and several results is trued up once, over the sum of its results."""
    lines: list[LineDraft] = []
    by_charge: dict[int, list[tuple[ChargeUsage, LineDraft]]] = {}
    for usage in usages:
        line = usage_line(usage=usage, currency=currency, window=window)
        lines.append(line)
        by_charge.setdefault(usage.charge_id, []).append((usage, line))
    for results in by_charge.values():
        first = results[0][0]
        usage = replace(
            first, group_key="", description=first.charge_description or first.description
        )
        spent = sum((line.amount_precise for _, line in results), _ZERO)
        true_up = minimum_line(usage=usage, usage_amount=spent, currency=currency, window=window)
        if true_up is not None:
            lines.append(true_up)
    return lines


def adjustment_lines(
    *,
    usages: Sequence[ChargeUsage],
    billed: Sequence[BilledSoFar],
    source_invoice_id: int,
    currency: str,
    window: Window,
    period_label: str,
) -> list[LineDraft]:
    """Late usage of a finalized period: for each charge (and group), what the period's usage
    costs now minus what was billed for it already; a line only where that differs from zero."""
    billed_by_key = {(b.charge_id, b.group_key): b for b in billed}
    lines = []
    for usage in usages:
        result = price_charge(usage)
        before = billed_by_key.get((usage.charge_id, usage.group_key))
        billed_amount = before.amount_precise if before else _ZERO
        billed_events = before.event_count if before else 0
        difference = _precise(result.amount) - billed_amount
        if difference == _ZERO and usage.event_count == billed_events:
            continue
        if difference == _ZERO:
            continue
        lines.append(
            _line(
                kind=ADJUSTMENT,
                description=f"Late usage for {period_label}: {usage.description}",
                quantity=usage.units,
                unit_amount=_ZERO,
                amount=difference,
                currency=currency,
                start=window.start,
                end=window.end,
                breakdown={
                    "charge_model": usage.charge_model,
                    **result.as_dict(),
                    "billed_before": format(billed_amount, "f"),
                    "events_before": billed_events,
                    "events_now": usage.event_count,
                },
                version_id=usage.version_id,
                charge_id=usage.charge_id,
                metric_code=usage.metric_code,
                group_key=usage.group_key,
                event_count=usage.event_count - billed_events,
                events_digest=usage.events_digest,
                source_invoice_id=source_invoice_id,
            )
        )
    return lines


def invoice_total(lines: Sequence[LineDraft]) -> Decimal:
    """The sum of the rounded lines: what the customer pays."""
    return sum((line.amount for line in lines), _ZERO)


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
