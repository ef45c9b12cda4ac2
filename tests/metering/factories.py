"""Builders for metering tests: billable metrics through their service, aliases, event payloads.

Loaded by `tests/metering/conftest.py` and exposed as fixtures (the test tree has no packages).
"""

from collections.abc import Callable
from itertools import count
from typing import Any

from metering.models import BillableMetric, CustomerAlias
from metering.services import billable_metric_create

_transaction_ids = count(1)


def metric_create(code: str = "api_calls", **fields: Any) -> BillableMetric:
    fields.setdefault("name", code.replace("_", " ").replace("-", " ").title())
    fields.setdefault("aggregation", "count")
    return billable_metric_create(code=code, **fields)


def alias_create(alias_id: str, customer_id: str | None = None) -> CustomerAlias:
    """`alias_id` as a customer's own id, or as a member of `customer_id`."""
    kind = CustomerAlias.Kind.MEMBER if customer_id else CustomerAlias.Kind.CUSTOMER
    return CustomerAlias.objects.create(
        alias_id=alias_id, customer_id=customer_id or alias_id, kind=kind
    )


def event_payload(**fields: Any) -> dict[str, Any]:
    """An event as a service sends it; `_drop=("timestamp",)` leaves fields out."""
    drop = fields.pop("_drop", ())
    event = {
        "transaction_id": f"txn-{next(_transaction_ids)}",
        "customer_id": "acme",
        "code": "api_calls",
        "timestamp": "2026-05-01T12:00:00Z",
        "properties": {},
        **fields,
    }
    for name in drop:
        event.pop(name, None)
    return event


EventPayload = Callable[..., dict[str, Any]]
