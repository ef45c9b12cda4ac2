import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from metering.aggregation import UsageResult
from metering.models import Aggregation, Event
from metering.selectors import usage_by_customer_for_period, usage_get

pytestmark = pytest.mark.django_db

CUSTOMERS = ("acme", "globex", "initech", "hooli")
START = datetime(2026, 3, 3, 12, tzinfo=UTC)
END = datetime(2026, 3, 20, tzinfo=UTC)


@pytest.fixture
def events(db) -> None:
    rng = random.Random(11)
    base = datetime(2026, 2, 20, tzinfo=UTC)
    Event.objects.bulk_create(
        Event(
            customer_id=rng.choice(CUSTOMERS[:3]),
            transaction_id=f"t{i}",
            code="gauge",
            subscription_id=rng.choice(["", "sub-1"]),
            timestamp=(at := base + timedelta(minutes=rng.randrange(0, 40 * 24 * 60))),
            received_at=at + timedelta(seconds=rng.randrange(0, 3)),
            properties={"v": rng.choice([1, 5, "2.5", 8, "u1", None]), "k": rng.choice("ab")},
            payload_hash=f"{i:032x}",
        )
        for i in range(500)
    )


@pytest.mark.parametrize(
    ("aggregation", "field_name"),
    [
        (Aggregation.COUNT, ""),
        (Aggregation.SUM, "v"),
        (Aggregation.MAX, "v"),
        (Aggregation.LAST, "v"),
        (Aggregation.UNIQUE_COUNT, "v"),
        (Aggregation.WEIGHTED_SUM, "v"),
    ],
)
def test_all_customers_query_equals_one_query_per_customer(
    metric_factory, events, aggregation, field_name
):
    # given
    metric = metric_factory(
        "gauge",
        aggregation=aggregation,
        field_name=field_name,
        filters={"k": ["a"]},
        rounding="round",
        rounding_precision=3,
    )
    per_customer = {
        customer_id: usage_get(metric=metric, customer_id=customer_id, start=START, end=END)
        for customer_id in CUSTOMERS
    }
    # when
    everyone = usage_by_customer_for_period(metric=metric, start=START, end=END)
    listed = usage_by_customer_for_period(
        metric=metric, start=START, end=END, customer_ids=list(CUSTOMERS)
    )
    # then
    assert everyone == {c: usage for c, usage in per_customer.items() if usage.quantity}
    assert listed == per_customer
    assert per_customer["hooli"] == UsageResult(quantity=Decimal("0.000"), event_count=0)
    assert sum(usage.event_count for usage in per_customer.values()) > 10


def test_no_listed_customers_is_an_empty_answer_without_a_query(
    metric_factory, django_assert_num_queries
):
    # given
    metric = metric_factory()
    # when / then
    with django_assert_num_queries(0):
        assert (
            usage_by_customer_for_period(metric=metric, start=START, end=END, customer_ids=[]) == {}
        )
