from collections.abc import Callable
from datetime import datetime
from itertools import count

import pytest

from metering.models import Aggregation, BillableMetric, Event

_sequence = count()


@pytest.fixture
def metric_factory(db) -> Callable[..., BillableMetric]:
    def make(code: str = "api_calls", **fields: object) -> BillableMetric:
        fields.setdefault("name", code.replace("_", " ").title())
        fields.setdefault("aggregation", Aggregation.COUNT)
        return BillableMetric.objects.create(code=code, **fields)

    return make


@pytest.fixture
def event_factory(db) -> Callable[..., Event]:
    """Stores one event; `received_at` defaults to its timestamp."""

    def make(
        at: datetime,
        properties: dict | None = None,
        *,
        customer_id: str = "acme",
        code: str = "api_calls",
        subscription_id: str = "",
        member_id: str = "",
        received_at: datetime | None = None,
    ) -> Event:
        n = next(_sequence)
        (event,) = Event.objects.bulk_create(
            [
                Event(
                    customer_id=customer_id,
                    transaction_id=f"tx-{n}",
                    code=code,
                    subscription_id=subscription_id,
                    member_id=member_id,
                    timestamp=at,
                    received_at=received_at or at,
                    properties=properties or {},
                    payload_hash=f"{n:032x}",
                )
            ]
        )
        return event

    return make
