"""The dashboard as the template shows it: the selectors' figures with their words, links
and charts. Which parts a user sees follows their view permissions."""

from datetime import datetime
from typing import Any

from django.utils.safestring import mark_safe

from billing_site.core.money import format_money
from dashboard import links
from dashboard.charts import Bar, bar_chart_svg, sparkline_svg
from dashboard.selectors import CurrencyPanel, Dashboard, dashboard_get
from dashboard.selectors.customers import NEAR_LIMIT_PERCENT
from dashboard.selectors.periods import next_month

BILLING_PERMISSION = "invoices.view_invoice"
USAGE_PERMISSION = "metering.view_event"
LIMITS_PERMISSION = "entitlements.view_usagealert"


def _revenue(panel: CurrencyPanel) -> list[dict[str, str]]:
    revenue = panel.revenue
    if revenue is None:
        return []
    code, start, end = panel.currency, revenue.month_start, revenue.month_end
    figures = [
        ("Paid", revenue.paid, "paid"),
        ("Finalized, awaiting payment", revenue.finalized, "finalized"),
        ("Draft", revenue.draft, "draft"),
    ]
    rows = [
        {
            "label": label,
            "amount": format_money(amount, code),
            "count": f"{revenue.invoice_counts.get(status, 0):,}",
            "href": links.invoices_issued(
                currency=code, start=start, end=end, status__exact=status
            ),
        }
        for label, amount, status in figures
    ]
    rows.append(
        {
            "label": "Projected to month end",
            "amount": format_money(revenue.projected, code),
            "count": "",
            "href": links.invoices_issued(
                currency=code, start=start, end=end, status__in=links.DRAFT_FINALIZED_PAID
            ),
        }
    )
    return rows


def _signed(amount: Any, currency: str) -> str:
    text = format_money(abs(amount), currency)
    return f"+{text}" if amount > 0 else (f"−{text}" if amount < 0 else text)


def _mrr(panel: CurrencyPanel) -> dict[str, Any] | None:
    mrr = panel.mrr
    if mrr is None:
        return None
    code = panel.currency
    complete = mrr.complete[-12:]
    latest_month = complete[-1][0]
    bars = [
        Bar(
            label=f"{month:%b}",
            value=amount,
            title=f"{month:%B %Y} {format_money(amount, code)}",
            href=links.invoices_of_periods(currency=code, start=month, end=next_month(month)),
        )
        for month, amount in complete
    ]
    return {
        "amount": format_money(mrr.latest, code),
        "month": f"{latest_month:%B %Y}",
        "href": links.invoices_of_periods(
            currency=code, start=latest_month, end=next_month(latest_month)
        ),
        "month_change": _signed(mrr.month_change, code),
        "year_change": _signed(mrr.year_change, code),
        "since": f"{mrr.complete[-13][0]:%B %Y}",
        # The chart module escapes every text it is given.
        "chart": mark_safe(bar_chart_svg(bars, label=f"MRR in {code}, last 12 months")),
    }


def _top(panel: CurrencyPanel) -> dict[str, list[dict[str, str]]]:
    code = panel.currency
    issued: dict[str, Any] = {}
    if panel.revenue is not None:
        issued = {
            "issued_at__gte": panel.revenue.month_start,
            "issued_at__lt": panel.revenue.month_end,
        }

    def rows(tops: list, value: Any) -> list[dict[str, str]]:
        return [
            {
                "label": top.label,
                "href": links.customer(top.customer_pk),
                "value": value(top.value),
                "value_href": links.invoices(
                    customer__id__exact=top.customer_pk,
                    currency__exact=code,
                    status__in=links.DRAFT_FINALIZED_PAID,
                    **issued,
                ),
            }
            for top in tops
        ]

    return {
        "by_amount": rows(panel.top_by_amount, lambda amount: format_money(amount, code)),
        "by_usage": rows(panel.top_by_usage, lambda events: f"{events:,} events"),
    }


def _queues(panel: CurrencyPanel) -> list[dict[str, str]]:
    code = panel.currency
    rows = []
    waiting = panel.waiting
    rows.append(
        {
            "label": "Invoices waiting to finalize",
            "count": f"{waiting.count:,}" if waiting else "0",
            "amount": format_money(waiting.amount, code) if waiting else "",
            "note": f"{waiting.overdue:,} past their grace period" if waiting else "",
            "href": links.invoices(status__exact="draft", currency__exact=code),
        }
    )
    failed = panel.failed
    rows.append(
        {
            "label": "Failed payments",
            "count": f"{failed.count:,}" if failed else "0",
            "amount": format_money(failed.amount, code) if failed else "",
            "note": "",
            "href": links.invoices(
                status__exact="finalized", payment_status__exact="failed", currency__exact=code
            ),
        }
    )
    return rows


def _activity(dashboard: Dashboard) -> dict[str, Any] | None:
    activity = dashboard.activity
    if activity is None:
        return None
    return {
        "total": f"{activity.total:,}",
        "average": f"{activity.average:,}",
        "peak": f"{activity.peak:,}",
        "href": links.events_last_24_hours(),
        "chart": mark_safe(  # the chart module escapes every text it is given
            sparkline_svg(activity.per_minute, label="Events per minute, last 24 hours")
        ),
    }


def _near_limits(dashboard: Dashboard) -> dict[str, Any] | None:
    if dashboard.near_limit_count is None:
        return None
    at = dashboard.at
    return {
        "count": f"{dashboard.near_limit_count:,}",
        "percent": NEAR_LIMIT_PERCENT,
        "href": links.usage_alerts(window_end__gt=at, threshold__gte=NEAR_LIMIT_PERCENT),
        "rows": [
            {
                "label": row.label,
                "href": links.customer(row.customer_pk),
                "feature": row.feature,
                "used": f"{row.used.normalize():,f}",
                "allowance": f"{row.allowance.normalize():,f}",
                "threshold": f"{row.threshold}%",
                "alerts_href": links.usage_alerts(
                    customer__id__exact=row.customer_pk, window_end__gt=at
                ),
            }
            for row in dashboard.near_limits
        ],
    }


def dashboard_context(*, user: Any, at: datetime) -> dict[str, Any]:
    """What the dashboard template needs, for `user` at `at`; empty when they may see
    nothing of it."""
    billing = user.has_perm(BILLING_PERMISSION)
    usage = user.has_perm(USAGE_PERMISSION)
    limits = user.has_perm(LIMITS_PERMISSION)
    if not (billing or usage or limits):
        return {"dashboard": None}
    dashboard = dashboard_get(at=at, billing=billing, usage=usage, limits=limits)
    return {
        "dashboard": {
            "at": at,
            "billing": billing,
            "currencies": [
                {
                    "code": panel.currency,
                    "revenue": _revenue(panel),
                    "month": f"{panel.revenue.month_start:%B %Y}" if panel.revenue else "",
                    "mrr": _mrr(panel),
                    "top": _top(panel),
                    "queues": _queues(panel),
                }
                for panel in dashboard.currencies
            ],
            "activity": _activity(dashboard),
            "near_limits": _near_limits(dashboard),
        }
    }
