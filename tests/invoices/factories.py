"""Builders for invoice tests: plans and subscriptions through the catalog's services, events
through metering's ingest, as the product does."""

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from metering.models import BillableMetric
from metering.services import usage_events_ingest
from plans.models import PlanVersion, Subscription
from tests.plans.factories import make_customer, make_metric, make_plan, make_version
from tests.plans.factories import make_subscription as _make_subscription

_ids = count(1)

SEED_GRADUATED = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 1000, "per_unit_amount": "0.02", "flat_amount": "0"},
        {"from_value": 1001, "to_value": 10000, "per_unit_amount": "0.01", "flat_amount": "0"},
        {"from_value": 10001, "to_value": None, "per_unit_amount": "0.005", "flat_amount": "0"},
    ]
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def tokens_metric() -> BillableMetric:
    return make_metric("tokens", aggregation="sum", field_name="tokens")


def plan_version(
    code: str = "pro",
    *,
    base_fee: str = "49.00",
    charges: dict[str, tuple[str, dict]] | None = None,
    **kwargs: Any,
) -> PlanVersion:
    tokens_metric()
    return make_version(
        make_plan(code),
        publish=True,
        base_fee=Decimal(base_fee),
        charges=charges if charges is not None else {"tokens": ("graduated", SEED_GRADUATED)},
        **kwargs,
    )


def subscribe(
    version: PlanVersion, customer_id: str = "acme", *, started_at: datetime, **kwargs: Any
) -> Subscription:
    return _make_subscription(version, make_customer(customer_id), started_at=started_at, **kwargs)


def send_tokens(
    customer_id: str,
    *amounts: int,
    at: datetime,
    received_at: datetime | None = None,
    code: str = "tokens",
) -> None:
    """One event per amount, stamped ``at`` (received then, unless told)."""
    events = [
        {
            "transaction_id": f"t-{next(_ids)}",
            "customer_id": customer_id,
            "code": code,
            "timestamp": at.isoformat(),
            "properties": {"tokens": amount},
        }
        for amount in amounts
    ]
    result = usage_events_ingest(events=events, received_at=received_at or at + timedelta(1e-3))
    assert result.accepted == len(events), result.outcomes


def wait_for(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait until ``condition()`` holds (a worker's result), failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the worker")
        time.sleep(0.1)
