"""Reads of the dashboard: each figure from the selector that owns it, per currency."""

from dataclasses import dataclass, field
from datetime import datetime

from dashboard.selectors.activity import EventActivity, events_per_minute
from dashboard.selectors.customers import (
    NearLimit,
    TopCustomer,
    customers_near_limits,
    top_customers_by_amount,
    top_customers_by_usage,
)
from dashboard.selectors.queues import (
    InvoiceQueue,
    invoices_waiting_to_finalize,
    payments_failed,
)
from dashboard.selectors.revenue import (
    MonthlyRecurringRevenue,
    RevenueThisMonth,
    mrr_by_month,
    revenue_this_month,
)


@dataclass(frozen=True)
class CurrencyPanel:
    currency: str
    revenue: RevenueThisMonth | None = None
    mrr: MonthlyRecurringRevenue | None = None
    top_by_amount: list[TopCustomer] = field(default_factory=list)
    top_by_usage: list[TopCustomer] = field(default_factory=list)
    waiting: InvoiceQueue | None = None
    failed: InvoiceQueue | None = None


@dataclass(frozen=True)
class Dashboard:
    at: datetime
    currencies: list[CurrencyPanel]
    activity: EventActivity | None  # None: not shown to this user
    near_limit_count: int | None
    near_limits: list[NearLimit]


def dashboard_get(*, at: datetime, billing: bool, usage: bool, limits: bool) -> Dashboard:
    """The figures a user may see: `billing` (invoices: revenue, MRR, top customers, queues),
    `usage` (events per minute) and `limits` (customers near their limits)."""
    currencies: list[CurrencyPanel] = []
    if billing:
        revenue = {figure.currency: figure for figure in revenue_this_month(at=at)}
        mrr = {figure.currency: figure for figure in mrr_by_month(at=at)}
        by_amount = top_customers_by_amount(at=at)
        by_usage = top_customers_by_usage(at=at)
        waiting = invoices_waiting_to_finalize(at=at)
        failed = payments_failed()
        codes = sorted({*revenue, *mrr, *by_amount, *by_usage, *waiting, *failed})
        currencies = [
            CurrencyPanel(
                currency=code,
                revenue=revenue.get(code),
                mrr=mrr.get(code),
                top_by_amount=by_amount.get(code, []),
                top_by_usage=by_usage.get(code, []),
                waiting=waiting.get(code),
                failed=failed.get(code),
            )
            for code in codes
        ]
    near_count, near = customers_near_limits(at=at) if limits else (None, [])
    return Dashboard(
        at=at,
        currencies=currencies,
        activity=events_per_minute(at=at) if usage else None,
        near_limit_count=near_count,
        near_limits=near,
    )


__all__ = [
    "CurrencyPanel",
    "Dashboard",
    "EventActivity",
    "InvoiceQueue",
    "MonthlyRecurringRevenue",
    "NearLimit",
    "RevenueThisMonth",
    "TopCustomer",
    "customers_near_limits",
    "dashboard_get",
    "events_per_minute",
    "invoices_waiting_to_finalize",
    "mrr_by_month",
    "payments_failed",
    "revenue_this_month",
    "top_customers_by_amount",
    "top_customers_by_usage",
]
