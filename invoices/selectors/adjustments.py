"""Coupon and tax lines of an invoice: read the customer's coupons and the tax rates in force,
hand them to the pure ``invoices.discounts`` and turn its outcome into lines.

Called by ``period_lines`` after the usage, credit and adjustment lines, so a draft, a preview
and a finalization all compute the same lines. Reading never consumes a coupon: finalization
records the redemption (``invoices.services.coupons``).

Lines as coupons see them: a negative line (credits applied) first lowers the positive lines of
its own metric, so a coupon discounts what is really charged and never takes an invoice below
zero; what it cannot net stays on its own line. Tax is computed on every line after that.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef, Q

from invoices.adjustment_models import AppliedCoupon, Coupon, TaxRate
from invoices.calculations import LineDraft
from invoices.discounts import (
    Adjusted,
    CouponApplication,
    CouponSpec,
    DiscountableLine,
    RateTotal,
    TaxRateSpec,
    invoice_adjust,
    tax_rates_in_force,
)
from invoices.display import money_text, number_text
from plans.models import Customer, PlanVersion

COUPON, TAX = "coupon", "tax"
ZERO = Decimal(0)


def applied_coupons_in_force(*, customer_id: int) -> list[AppliedCoupon]:
    """The customer's active coupons that still have something to give, oldest first."""
    applied = (
        AppliedCoupon.objects.filter(customer_id=customer_id, status=AppliedCoupon.Status.ACTIVE)
        .select_related("coupon")
        .prefetch_related("coupon__plans", "coupon__metrics")
        .order_by("created_at", "id")
    )
    return [a for a in applied if a.periods_remaining != 0 and a.amount_remaining != 0]


def coupon_terms(applied: AppliedCoupon) -> tuple[Decimal | None, Decimal | None]:
    """(amount, rate) this customer gets from one invoice: its own terms win over the coupon's;
    a fixed coupon given once offers what is left of its balance."""
    coupon = applied.coupon
    if coupon.kind == Coupon.Kind.PERCENTAGE:
        rate = applied.percentage if applied.percentage is not None else coupon.percentage
        return None, rate
    if applied.amount_remaining is not None:
        return applied.amount_remaining, None
    return (applied.amount if applied.amount is not None else coupon.amount), None


def coupon_spec(applied: AppliedCoupon) -> CouponSpec:
    amount, rate = coupon_terms(applied)
    return CouponSpec(
        key=str(applied.pk),
        kind=applied.coupon.kind,
        order=f"{applied.created_at.isoformat()}#{applied.pk:012d}",
        amount=amount,
        rate=rate,
        metric_codes=frozenset(m.code for m in applied.coupon.metrics.all()),
        plan_codes=frozenset(p.code for p in applied.coupon.plans.all()),
    )


def _spec(rate: TaxRate) -> TaxRateSpec:
    return TaxRateSpec(code=rate.code, name=rate.name, percentage=rate.percentage)


@dataclass(frozen=True)
class TaxRatesKnown:
    """The tax rates of a batch's customers and versions, read at once (``tax_rates_prefetch``);
    a customer or version not in it has none of its own."""

    by_version: dict[int, list[TaxRateSpec]]
    by_customer: dict[int, list[TaxRateSpec]]
    default: list[TaxRateSpec]


def tax_rates_prefetch(*, customer_ids: set[int], version_ids: set[int]) -> TaxRatesKnown:
    """The rates in force for any of the customers and plan versions, by code: one query."""
    customers = TaxRate.customers.through.objects.filter(
        taxrate_id=OuterRef("pk"), customer_id__in=customer_ids or {0}
    ).values("customer_id")
    versions = TaxRate.plan_versions.through.objects.filter(
        taxrate_id=OuterRef("pk"), planversion_id__in=version_ids or {0}
    ).values("planversion_id")
    rates = (
        TaxRate.objects.annotate(
            customer_ids=ArraySubquery(customers), version_ids=ArraySubquery(versions)
        )
        .filter(Q(is_default=True) | Q(Exists(customers)) | Q(Exists(versions)))
        .order_by("code")
    )
    known = TaxRatesKnown(by_version={}, by_customer={}, default=[])
    for rate in rates:
        spec = _spec(rate)
        for version_id in rate.version_ids or ():
            known.by_version.setdefault(version_id, []).append(spec)
        for customer_id in rate.customer_ids or ():
            known.by_customer.setdefault(customer_id, []).append(spec)
        if rate.is_default:
            known.default.append(spec)
    return known


def tax_rates_by_version(
    *, customer_id: int, version_ids: set[int], known: TaxRatesKnown | None = None
) -> tuple[dict[int, list[TaxRateSpec]], list[TaxRateSpec], list[TaxRateSpec]]:
    """(plan versions' rates by version id, the customer's rates, the organization's default
    rates), by code: from ``known`` when a batch read them, else one query."""
    known = known or tax_rates_prefetch(customer_ids={customer_id}, version_ids=version_ids)
    by_version = {v: known.by_version[v] for v in version_ids if v in known.by_version}
    return by_version, known.by_customer.get(customer_id, []), known.default


def netted_amounts(lines: Sequence[LineDraft]) -> list[Decimal]:
    """Each line's amount with negative lines netted into the positive lines of their metric."""
    amounts = [line.amount for line in lines]
    for index, line in enumerate(lines):
        if line.amount >= 0 or not line.metric_code:
            continue
        for other, candidate in enumerate(lines):
            if amounts[index] >= 0:
                break
            if candidate.metric_code != line.metric_code or amounts[other] <= 0:
                continue
            moved = min(amounts[other], -amounts[index])
            amounts[other] -= moved
            amounts[index] += moved
    return amounts


def adjustments_compute(
    *,
    customer: Customer,
    currency: str,
    lines: Sequence[LineDraft],
    applied: Sequence[AppliedCoupon],
    known_rates: TaxRatesKnown | None = None,
) -> Adjusted | None:
    """Coupons then taxes over ``lines`` (keys are their indexes); None when there is nothing
    to adjust."""
    if not lines:
        return None
    version_ids = {line.version_id for line in lines if line.version_id is not None}
    by_version, customer_rates, default_rates = tax_rates_by_version(
        customer_id=customer.pk, version_ids=version_ids, known=known_rates
    )
    if not applied and not (by_version or customer_rates or default_rates):
        return None
    specs = [coupon_spec(a) for a in applied]
    plan_codes: dict[int, str] = {}
    if any(spec.plan_codes for spec in specs):
        plan_codes = dict(
            PlanVersion.objects.filter(pk__in=version_ids).values_list("pk", "plan__code")
        )
    discountable = [
        DiscountableLine(
            key=str(index),
            amount=amount,
            metric_code=line.metric_code,
            plan_code=plan_codes.get(line.version_id, "") if line.version_id else "",
        )
        for index, (line, amount) in enumerate(zip(lines, netted_amounts(lines), strict=True))
    ]
    rates_by_line = {
        str(index): tax_rates_in_force(
            plan_version=by_version.get(line.version_id, ()) if line.version_id else (),
            customer=customer_rates,
            organization=default_rates,
        )
        for index, line in enumerate(lines)
    }
    return invoice_adjust(
        discountable, coupons=specs, rates_by_line=rates_by_line, currency=currency
    )


def add_on_tax_lines(
    *,
    customer: Customer,
    currency: str,
    lines: Sequence[LineDraft],
    add_on_rates: Sequence[Sequence[TaxRateSpec]],
) -> list[LineDraft]:
    """The tax lines (one per rate) of a one-off invoice: each add-on line is taxed at the
    add-on's own rates, else the customer's, else the organization's default. Coupons are for
    billing periods and do not apply here."""
    if not lines:
        return []
    _, customer_rates, default_rates = tax_rates_by_version(
        customer_id=customer.pk, version_ids=set()
    )
    rates_by_line = {
        str(index): tax_rates_in_force(
            plan_version=rates, customer=customer_rates, organization=default_rates
        )
        for index, rates in enumerate(add_on_rates)
    }
    if not any(rates_by_line.values()):
        return []
    discountable = [
        DiscountableLine(key=str(index), amount=line.amount) for index, line in enumerate(lines)
    ]
    adjusted = invoice_adjust(
        discountable, coupons=[], rates_by_line=rates_by_line, currency=currency
    )
    window = (min(line.line_start for line in lines), max(line.line_end for line in lines))
    return [
        _tax_line(total, adjusted, lines, currency, window)
        for total in adjusted.rate_totals
        if total.taxable or total.amount
    ]


def add_on_rate_specs(add_on_ids: Sequence[int]) -> dict[int, list[TaxRateSpec]]:
    """Each add-on's own tax rates, by add-on id (one query)."""
    rates: dict[int, list[TaxRateSpec]] = {}
    through = TaxRate.add_ons.through.objects.filter(addon_id__in=set(add_on_ids))
    for row in through.select_related("taxrate").order_by("taxrate__code"):
        rates.setdefault(row.addon_id, []).append(_spec(row.taxrate))
    return rates


def coupon_customers_ids(*, customer_ids: set[int]) -> set[int]:
    """Which of the customers hold an active coupon (one query, for a batch)."""
    return set(
        AppliedCoupon.objects.filter(
            customer_id__in=customer_ids, status=AppliedCoupon.Status.ACTIVE
        ).values_list("customer_id", flat=True)
    )


def coupon_and_tax_lines(
    *,
    customer: Customer,
    currency: str,
    lines: Sequence[LineDraft],
    coupon_customers: set[int] | None = None,
    known_rates: TaxRatesKnown | None = None,
) -> list[LineDraft]:
    """The coupon lines (negative, one per coupon that gave something) and the tax lines (one
    per rate) to add after ``lines``. Fixed coupons in another currency wait for an invoice in
    theirs. A batch passes what it read at once: the customers holding active coupons
    (``coupon_customers``, others are not asked) and the rates (``known_rates``)."""
    in_force = (
        []
        if coupon_customers is not None and customer.pk not in coupon_customers
        else applied_coupons_in_force(customer_id=customer.pk)
    )
    applied = [
        a
        for a in in_force
        if a.coupon.kind == Coupon.Kind.PERCENTAGE or a.coupon.currency == currency
    ]
    adjusted = adjustments_compute(
        customer=customer,
        currency=currency,
        lines=lines,
        applied=applied,
        known_rates=known_rates,
    )
    if adjusted is None:
        return []
    window = (min(line.line_start for line in lines), max(line.line_end for line in lines))
    by_key = {str(a.pk): a for a in applied}
    result = [
        _coupon_line(by_key[application.coupon_key], application, lines, currency, window)
        for application in adjusted.coupons
        if application.amount
    ]
    for total in adjusted.rate_totals:
        if not total.taxable and not total.amount:
            continue
        result.append(_tax_line(total, adjusted, lines, currency, window))
    return result


def _coupon_line(
    applied: AppliedCoupon,
    application: CouponApplication,
    lines: Sequence[LineDraft],
    currency: str,
    window: tuple[datetime, datetime],
) -> LineDraft:
    coupon = applied.coupon
    amount, rate = coupon_terms(applied)
    if rate is not None:
        terms = f"{number_text(rate)} % off"
        formula = f"−{number_text(rate)} % of the lines it covers"
    else:
        terms = f"{money_text(amount, currency)} off"
        formula = f"−{money_text(amount, currency)}, capped at the lines it covers"
    return LineDraft(
        kind=COUPON,
        description=f"Coupon {coupon.name} ({coupon.code}): {terms}",
        quantity=Decimal(1),
        unit_amount=-application.amount,
        amount_precise=-application.amount,
        amount=-application.amount,
        line_start=window[0],
        line_end=window[1],
        breakdown={
            "applied_coupon_id": applied.pk,
            "coupon_code": coupon.code,
            "coupon_kind": coupon.kind,
            "rate": None if rate is None else str(rate),
            "amount_offered": None if amount is None else str(amount),
            "balance_left": (
                None if application.balance_left is None else str(application.balance_left)
            ),
            "per_line": [
                [lines[int(key)].description, str(part)] for key, part in application.per_line
            ],
            "formula": formula,
        },
    )


def _tax_line(
    total: RateTotal,
    adjusted: Adjusted,
    lines: Sequence[LineDraft],
    currency: str,
    window: tuple[datetime, datetime],
) -> LineDraft:
    percent = number_text(total.rate.percentage)
    return LineDraft(
        kind=TAX,
        description=f"{total.rate.name} ({percent} %)",
        quantity=total.taxable,
        unit_amount=total.rate.percentage,
        amount_precise=total.amount,
        amount=total.amount,
        line_start=window[0],
        line_end=window[1],
        breakdown={
            "rate_code": total.rate.code,
            "percentage": str(total.rate.percentage),
            "taxable": str(total.taxable),
            "per_line": [
                [lines[int(t.line_key)].description, str(t.taxable), str(t.amount)]
                for t in adjusted.line_taxes
                if t.rate_code == total.rate.code
            ],
            "formula": f"{percent} % of {money_text(total.taxable, currency)}, rounded per line",
        },
    )
