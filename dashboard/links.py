"""Where each figure of the dashboard leads: the admin list filtered to the rows behind it."""

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode

DRAFT_FINALIZED_PAID = "draft,finalized,paid"


def _changelist(name: str, params: dict[str, Any]) -> str:
    query = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in params.items()
    }
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(query)}" if query else url


def invoices(**params: Any) -> str:
    """The invoice list with these lookups, e.g. status__exact="draft"."""
    return _changelist("invoices_invoice", params)


def invoices_issued(*, currency: str, start: datetime, end: datetime, **params: Any) -> str:
    return invoices(currency__exact=currency, issued_at__gte=start, issued_at__lt=end, **params)


def invoices_of_periods(*, currency: str, start: datetime, end: datetime) -> str:
    """The invoices counted in a month's MRR: periods starting in [start, end)."""
    return invoices(
        currency__exact=currency,
        status__in=DRAFT_FINALIZED_PAID,
        period_start__gte=start,
        period_start__lt=end,
    )


def customer(pk: int) -> str:
    return reverse("admin:plans_customer_change", args=[pk])


def events_last_24_hours() -> str:
    return _changelist("metering_event", {"within": "24h"})


def usage_alerts(**params: Any) -> str:
    return _changelist("entitlements_usagealert", params)
