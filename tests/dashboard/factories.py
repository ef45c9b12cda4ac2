"""Builders for dashboard tests: customers and subscriptions through the catalog's services;
invoices, lines and usage alerts as rows in the states the billing cycle leaves them (the
dashboard only reads them)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from entitlements.models import UsageAlert
from invoices.models import Invoice, InvoiceLine, InvoiceStatus, PaymentStatus
from plans.models import Feature, PlanVersion, Subscription
from tests.plans.factories import make_customer, make_plan, make_subscription, make_version

_numbers = count(1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def version(interval: str = "month", currency: str = "USD") -> PlanVersion:
    return make_version(
        make_plan(f"{interval}-{currency.lower()}"),
        publish=True,
        interval=interval,
        currency=currency,
    )


def subscription(
    customer_id: str, *, interval: str = "month", currency: str = "USD", name: str = ""
) -> Subscription:
    return make_subscription(
        version(interval, currency),
        make_customer(customer_id, name=name),
        started_at=utc(2024, 1, 1),
    )


def invoice(
    sub: Subscription,
    total: str,
    *,
    status: str = InvoiceStatus.FINALIZED,
    issued_at: datetime,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    payment_status: str = PaymentStatus.NONE,
    finalize_after: datetime | None = None,
    events: int = 0,
) -> Invoice:
    """An invoice of `sub`; its period ends when it is issued unless told, and with `events`
    a usage line counting that many events."""
    period_end = period_end or issued_at
    period_start = period_start or period_end - timedelta(days=30)
    final = status != InvoiceStatus.DRAFT
    created = Invoice.objects.create(
        customer=sub.customer,
        subscription=sub,
        version=sub.version,
        kind="period",
        status=status,
        number=f"DASH-{next(_numbers):05d}" if final else None,
        currency=sub.version.currency,
        period_start=period_start,
        period_end=period_end,
        nominal_period_end=period_end,
        total=Decimal(total),
        issued_at=issued_at,
        computed_at=issued_at,
        finalize_after=finalize_after or issued_at + timedelta(days=3),
        finalized_at=issued_at if final else None,
        paid_at=issued_at if status == InvoiceStatus.PAID else None,
        payment_status=payment_status,
    )
    if events:
        InvoiceLine.objects.create(
            invoice=created,
            kind=InvoiceLine.Kind.USAGE,
            description="Usage",
            amount_precise=Decimal(total),
            amount=Decimal(total),
            line_start=period_start,
            line_end=period_end,
            event_count=events,
        )
    return created


def usage_alert(
    sub: Subscription, feature: Feature, threshold: int, used: str, allowance: str, **kwargs: Any
) -> UsageAlert:
    kwargs.setdefault("window_start", utc(2026, 3, 1))
    kwargs.setdefault("window_end", utc(2026, 4, 1))
    return UsageAlert.objects.create(
        customer=sub.customer,
        subscription=sub,
        feature=feature,
        threshold=threshold,
        used=Decimal(used),
        allowance=Decimal(allowance),
        **kwargs,
    )
