"""The consume's own statements (``entitlements.sql``: ``CONSUME_*``), each one round trip,
prepared once per connection."""

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from billing_site.core.sql import prepared_fetchone
from entitlements.models import UsageCounter
from entitlements.selectors import InForce, Prefetched, in_force_of_row
from entitlements.sql import (
    CONSUME_IN_FORCE_BY_EXTERNAL_ID,
    CONSUME_IN_FORCE_BY_ID,
    CONSUME_STATE,
    CONSUME_WRITE,
)
from metering.models import BillableMetric
from plans.models import Customer
from plans.selectors import EffectiveFeature


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def consume_in_force(
    *, customer: Customer | None, external_id: str | None, feature: str, at: datetime
) -> tuple[InForce | None, EffectiveFeature | None, Customer, BillableMetric | None]:
    """The customer (NotFoundError when unknown), the feature in force and its metric (None
    when the feature is not metered or not in force), the entitlement lock taken when it is."""
    params = {
        "customer_id": customer.pk if customer is not None else None,
        "external_id": None if customer is not None else external_id,
        "slug": feature,
        "at": at,
    }
    sql = CONSUME_IN_FORCE_BY_ID if customer is not None else CONSUME_IN_FORCE_BY_EXTERNAL_ID
    row = prepared_fetchone(sql, params)
    in_force, effective, _, customer, rest = in_force_of_row(
        row, customer, at, external_id=external_id
    )
    metric = None
    if effective is not None and effective.metric_id is not None and rest is not None:
        code, aggregation, field_name, filters, weights, rounding, _locked = rest
        metric = BillableMetric(
            id=effective.metric_id,
            code=code,
            aggregation=aggregation,
            field_name=field_name,
            filters=_json(filters),
            weights=_json(weights),
            rounding=rounding,
        )
    return in_force, effective, customer, metric


def consume_state(
    *,
    customer_id: int,
    feature_id: int,
    metric_id: int,
    window_start: datetime,
    window_end: datetime,
    transaction_id: str,
    at: datetime,
) -> tuple[Prefetched, tuple[int, dict[str, Any]] | None]:
    """Under the lock: the window's state and the answer already given to ``transaction_id``
    (status, body), if any."""
    row = prepared_fetchone(
        CONSUME_STATE,
        {
            "customer_id": customer_id,
            "feature_id": feature_id,
            "metric_id": metric_id,
            "window_start": window_start,
            "window_end": window_end,
            "transaction_id": transaction_id,
            "at": at,
        },
    )
    if row is None:  # it selects from a one-row table: never
        raise RuntimeError("The consume state statement returned no row.")
    counter_id, quantity, credited, stale, held, credits, status, response = row
    state = Prefetched(
        window_start, window_end, counter_id, quantity, credited, stale, held, credits
    )
    return state, (None if status is None else (status, _json(response)))


def consume_write(
    *,
    customer_id: int,
    feature_id: int,
    metric_id: int,
    counter_id: int,
    transaction_id: str,
    quantity: Decimal,
    credited: Decimal,
    response: dict[str, Any],
    at: datetime,
) -> None:
    """Count the units just stored on the window's counter, mark the metric's other counters
    of the customer stale, and store the answer."""
    row = prepared_fetchone(
        CONSUME_WRITE,
        {
            "customer_id": customer_id,
            "feature_id": feature_id,
            "metric_id": metric_id,
            "counter_id": counter_id,
            "transaction_id": transaction_id,
            "quantity": quantity,
            "credited": credited,
            "response": json.dumps(response),
            "at": at,
        },
    )
    if row is None or row[0] != 1:
        raise RuntimeError(f"The usage counter {counter_id} is gone.")


def counter_plus(counter: UsageCounter, *, quantity: Decimal, credited: Decimal) -> UsageCounter:
    """The counter as ``consume_write`` leaves it (for the answer's numbers)."""
    return UsageCounter(
        id=counter.pk,
        customer_id=counter.customer_id,
        metric_id=counter.metric_id,
        window_start=counter.window_start,
        window_end=counter.window_end,
        quantity=counter.quantity + quantity,
        credited=counter.credited + credited,
        stale=counter.stale,
    )
