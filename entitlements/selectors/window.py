"""The state of a feature's usage window: its counter, the open holds and the credit balance."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from billing_site.core.sql import prepared_fetchone
from entitlements.counters import usage_counter_current
from entitlements.decision import ZERO
from entitlements.models import Hold, UsageCounter
from entitlements.sql import (
    WINDOW_STATE,
)
from plans.models import Customer


@dataclass(frozen=True)
class Prefetched:
    """The window state the first statement read, for the window SQL computed."""

    window_start: datetime | None
    window_end: datetime | None
    counter_id: int | None
    quantity: Decimal | None
    credited: Decimal | None
    stale: bool | None
    held: Decimal
    credits: Decimal


@dataclass(frozen=True)
class WindowState:
    counter: UsageCounter
    held: Decimal
    credits: Decimal


def window_state(
    *,
    customer: Customer,
    feature_id: int,
    metric_id: int,
    window_start: datetime,
    window_end: datetime,
    at: datetime,
    prefetched: Prefetched | None = None,
) -> WindowState:
    """What the first statement read when it is for this window and its counter is current;
    else one statement (``entitlements.sql.WINDOW_STATE``), a missing or stale counter being
    first built or recomputed from metering."""
    if (
        prefetched is not None
        and prefetched.counter_id is not None
        and not prefetched.stale
        and (prefetched.window_start, prefetched.window_end) == (window_start, window_end)
    ):
        return WindowState(
            counter=UsageCounter(
                id=prefetched.counter_id,
                customer_id=customer.pk,
                metric_id=metric_id,
                window_start=window_start,
                window_end=window_end,
                quantity=prefetched.quantity,
                credited=prefetched.credited,
                stale=False,
            ),
            held=prefetched.held,
            credits=prefetched.credits,
        )
    params = {
        "customer_id": customer.pk,
        "feature_id": feature_id,
        "metric_id": metric_id,
        "window_start": window_start,
        "window_end": window_end,
        "at": at,
    }
    row = prepared_fetchone(WINDOW_STATE, params)
    if row is None:  # it selects from a one-row table: never
        raise RuntimeError("The window state statement returned no row.")
    counter_id, quantity, credited, stale, held, credits = row
    if counter_id is None or stale:
        counter = usage_counter_current(
            customer_id=customer.pk,
            external_id=customer.external_id,
            metric_id=metric_id,
            window_start=window_start,
            window_end=window_end,
        )
    else:
        counter = UsageCounter(
            id=counter_id,
            customer_id=customer.pk,
            metric_id=metric_id,
            window_start=window_start,
            window_end=window_end,
            quantity=quantity,
            credited=credited,
            stale=False,
        )
    return WindowState(counter=counter, held=held, credits=credits)


def held_quantity(*, customer_id: int, feature_id: int, at: datetime) -> Decimal:
    total = Hold.objects.filter(
        customer_id=customer_id,
        feature_id=feature_id,
        status=Hold.Status.HELD,
        expires_at__gt=at,
    ).aggregate(total=Sum("quantity"))["total"]
    return total or ZERO
