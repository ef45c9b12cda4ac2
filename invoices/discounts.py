"""Coupons and taxes on an invoice's lines: pure, exact, no ORM.

Invariants:
- Inputs are lines already rounded to the currency's minor unit. Every amount this module returns
  is rounded to that unit too, so lines, discounts, taxes and totals reconcile to the cent.
- Coupons apply before taxes, in one documented order: coupons limited to metrics first, then
  coupons limited to plans, then general coupons; oldest first within each group. Each coupon is
  capped at what remains of the lines it may discount, so no line ever goes below zero.
- A coupon's discount is spread over its eligible lines in proportion to what remains of each,
  rounded down to the minor unit, with the last line taking the remainder (and anything a line
  cannot hold moving back to the lines before it), so the parts always sum to the discount.
- A fixed coupon reports its unused balance, which carries to the next invoice.
- Tax is computed per line on the amount after coupons, rounded once per line and rate, half-up;
  the per-rate totals are sums of those rounded line taxes. The most specific tax rates win:
  a plan version's over a customer's over the organization's default.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from billing_site.core.money import currency_exponent, quantize

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class DiscountableLine:
    """An invoice line as coupons and taxes see it."""

    key: str
    amount: Decimal  # rounded to the minor unit
    metric_code: str = ""  # the metric of a usage line; "" for fees that are not usage
    plan_code: str = ""  # the plan the line was billed under; "" for one-off lines


@dataclass(frozen=True)
class CouponSpec:
    """A coupon as applied to one customer, with the terms in force for this invoice.

    ``amount`` is what is left of a fixed coupon (its balance); ``rate`` a percentage (10 = 10 %).
    ``order`` sorts coupons of the same group, oldest first (e.g. the application's timestamp).
    """

    key: str
    kind: str  # "fixed" | "percentage"
    order: str
    amount: Decimal | None = None
    rate: Decimal | None = None
    metric_codes: frozenset[str] = frozenset()
    plan_codes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.kind == "fixed" and (self.amount is None or self.amount < 0):
            raise ValueError(f"Fixed coupon {self.key} needs a non-negative amount.")
        if self.kind == "percentage" and (self.rate is None or not ZERO <= self.rate <= HUNDRED):
            raise ValueError(f"Percentage coupon {self.key} needs a rate between 0 and 100.")
        if self.kind not in ("fixed", "percentage"):
            raise ValueError(f"Unknown coupon kind {self.kind!r}.")

    @property
    def group(self) -> int:
        """0: limited to metrics, 1: limited to plans, 2: general."""
        if self.metric_codes:
            return 0
        if self.plan_codes:
            return 1
        return 2

    def covers(self, line: DiscountableLine) -> bool:
        if self.metric_codes:
            return line.metric_code in self.metric_codes
        if self.plan_codes:
            return line.plan_code in self.plan_codes
        return True


@dataclass(frozen=True)
class CouponApplication:
    coupon_key: str
    amount: Decimal  # the discount this coupon gives on this invoice (positive)
    per_line: tuple[tuple[str, Decimal], ...]  # (line key, discount on that line)
    balance_left: Decimal | None  # a fixed coupon's unused balance; None for percentages


@dataclass(frozen=True)
class TaxRateSpec:
    code: str
    name: str
    percentage: Decimal  # 20 = 20 %


@dataclass(frozen=True)
class LineTax:
    line_key: str
    rate_code: str
    taxable: Decimal
    amount: Decimal


@dataclass(frozen=True)
class RateTotal:
    rate: TaxRateSpec
    taxable: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Adjusted:
    """The outcome for one invoice: discounts, then taxes, and the totals they reconcile to."""

    coupons: tuple[CouponApplication, ...]
    net_by_line: dict[str, Decimal]
    line_taxes: tuple[LineTax, ...]
    rate_totals: tuple[RateTotal, ...]
    subtotal: Decimal  # sum of the lines before coupons
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal


def allocate(total: Decimal, weights: Sequence[Decimal], currency: str) -> list[Decimal]:
    """Split ``total`` (rounded, non-negative) over parts in proportion to ``weights``, each part
    at most its weight: rounded down per part, the last part taking the remainder, and whatever a
    part cannot hold moved back to the parts before it. The parts sum to ``total`` exactly."""
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("allocate takes non-negative amounts.")
    capacity = sum(weights, ZERO)
    if total > capacity:
        raise ValueError(f"Cannot allocate {total} over lines worth {capacity}.")
    if not weights or total == 0:
        return [ZERO for _ in weights]
    unit = Decimal(1).scaleb(-currency_exponent(currency))
    parts = [(total * w / capacity).quantize(unit, rounding=ROUND_DOWN) for w in weights[:-1]] + [
        ZERO
    ]
    parts[-1] = total - sum(parts[:-1], ZERO)
    # Rounding down can leave the last part more than it may hold; move the excess backwards.
    for index in range(len(parts) - 1, 0, -1):
        excess = parts[index] - weights[index]
        if excess > 0:
            parts[index] -= excess
            parts[index - 1] += excess
    return parts


def coupons_apply(
    lines: Sequence[DiscountableLine], coupons: Iterable[CouponSpec], currency: str
) -> tuple[list[CouponApplication], dict[str, Decimal]]:
    """Apply coupons in the documented order; returns the applications and each line's amount
    after all discounts. Lines with a negative amount (credits, adjustments) are never
    discounted."""
    remaining = {line.key: line.amount for line in lines}
    applications = []
    for coupon in sorted(coupons, key=lambda c: (c.group, c.order, c.key)):
        eligible = [line for line in lines if coupon.covers(line) and remaining[line.key] > 0]
        room = sum((remaining[line.key] for line in eligible), ZERO)
        if coupon.kind == "percentage":
            wanted = quantize(room * coupon.rate / HUNDRED, currency)
        else:
            wanted = quantize(coupon.amount, currency)
        discount = min(wanted, room)
        parts = allocate(discount, [remaining[line.key] for line in eligible], currency)
        for line, part in zip(eligible, parts, strict=True):
            remaining[line.key] -= part
        applications.append(
            CouponApplication(
                coupon_key=coupon.key,
                amount=discount,
                per_line=tuple(
                    (line.key, part) for line, part in zip(eligible, parts, strict=True) if part
                ),
                balance_left=(coupon.amount - discount) if coupon.kind == "fixed" else None,
            )
        )
    return applications, remaining


def tax_rates_in_force(
    *,
    plan_version: Sequence[TaxRateSpec] = (),
    customer: Sequence[TaxRateSpec] = (),
    organization: Sequence[TaxRateSpec] = (),
) -> tuple[TaxRateSpec, ...]:
    """The most specific non-empty set: plan version, else customer, else the organization."""
    for rates in (plan_version, customer, organization):
        if rates:
            return tuple(rates)
    return ()


def taxes_compute(
    net_by_line: dict[str, Decimal],
    rates_by_line: dict[str, Sequence[TaxRateSpec]],
    currency: str,
) -> tuple[list[LineTax], list[RateTotal]]:
    """Tax per line and rate on the amount after coupons, rounded once each, half-up."""
    line_taxes = []
    totals: dict[str, list] = {}
    for key, net in net_by_line.items():
        for rate in rates_by_line.get(key, ()):
            amount = quantize(net * rate.percentage / HUNDRED, currency)
            line_taxes.append(
                LineTax(line_key=key, rate_code=rate.code, taxable=net, amount=amount)
            )
            entry = totals.setdefault(rate.code, [rate, ZERO, ZERO])
            entry[1] += net
            entry[2] += amount
    rate_totals = [RateTotal(rate=r, taxable=t, amount=a) for r, t, a in totals.values()]
    return line_taxes, rate_totals


def invoice_adjust(
    lines: Sequence[DiscountableLine],
    *,
    coupons: Iterable[CouponSpec] = (),
    rates_by_line: dict[str, Sequence[TaxRateSpec]] | None = None,
    currency: str,
) -> Adjusted:
    """Coupons, then taxes, for one invoice. total = subtotal - discounts + taxes, exactly."""
    applications, net_by_line = coupons_apply(lines, coupons, currency)
    line_taxes, rate_totals = taxes_compute(net_by_line, rates_by_line or {}, currency)
    subtotal = sum((line.amount for line in lines), ZERO)
    discount_total = sum((a.amount for a in applications), ZERO)
    tax_total = sum((t.amount for t in line_taxes), ZERO)
    return Adjusted(
        coupons=tuple(applications),
        net_by_line=net_by_line,
        line_taxes=tuple(line_taxes),
        rate_totals=tuple(rate_totals),
        subtotal=subtotal,
        discount_total=discount_total,
        tax_total=tax_total,
        total=subtotal - discount_total + tax_total,
    )
