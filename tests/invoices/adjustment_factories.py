"""Builders for coupons and tax rates, the rows staff create in the admin."""

from datetime import date
from decimal import Decimal

from invoices.models import Coupon, TaxRate
from metering.models import BillableMetric
from plans.models import Customer, Plan, PlanVersion


def make_coupon(
    code: str,
    *,
    amount: str | None = None,
    percentage: str | None = None,
    currency: str = "USD",
    duration: str = "once",
    periods: int | None = None,
    expires_on: date | None = None,
    limit: int | None = None,
    metrics: list[str] = (),
    plans: list[str] = (),
) -> Coupon:
    coupon = Coupon(
        code=code,
        name=code.replace("-", " ").title(),
        kind="fixed" if amount is not None else "percentage",
        amount=Decimal(amount) if amount is not None else None,
        currency=currency if amount is not None else "",
        percentage=Decimal(percentage) if percentage is not None else None,
        duration=duration,
        duration_periods=periods,
        expires_on=expires_on,
        redemption_limit=limit,
    )
    coupon.full_clean()
    coupon.save()
    coupon.metrics.set(BillableMetric.objects.filter(code__in=metrics))
    coupon.plans.set(Plan.objects.filter(code__in=plans))
    return coupon


def make_tax_rate(
    code: str,
    percentage: str,
    *,
    default: bool = False,
    customers: list[Customer] = (),
    versions: list[PlanVersion] = (),
) -> TaxRate:
    rate = TaxRate.objects.create(
        code=code, name=code.upper(), percentage=Decimal(percentage), is_default=default
    )
    rate.customers.set(customers)
    rate.plan_versions.set(versions)
    return rate
