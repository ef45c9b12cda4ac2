from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from metering.models import Aggregation, BillableMetric, Event

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def make_metric(db) -> Callable[..., BillableMetric]:
    def make(code: str = "api_calls", **fields: object) -> BillableMetric:
        fields.setdefault("name", code.replace("_", " ").title())
        fields.setdefault("aggregation", Aggregation.COUNT)
        return BillableMetric.objects.create(code=code, **fields)

    return make


@pytest.fixture
def make_events(db) -> Callable[..., list[Event]]:
    """`n` events, one second apart from `start`, spread over `customers` round robin."""

    def make(
        n: int,
        *,
        code: str = "api_calls",
        customers: tuple[str, ...] = ("acme",),
        start: datetime = T0,
        properties: dict | None = None,
    ) -> list[Event]:
        events = [
            Event(
                customer_id=customers[i % len(customers)],
                transaction_id=f"{code}-{int(start.timestamp())}-{i}",
                code=code,
                timestamp=start + timedelta(seconds=i),
                received_at=start + timedelta(seconds=i),
                properties=properties if properties is not None else {"i": i},
                payload_hash=f"{i:032x}",
            )
            for i in range(n)
        ]
        return Event.objects.bulk_create(events, batch_size=2000)

    return make
