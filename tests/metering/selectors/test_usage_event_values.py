from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from metering.aggregation import UsageResult
from metering.models import Aggregation
from metering.selectors import usage_event_values, usage_summary_for_customer

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)


def _at(hours: int) -> datetime:
    return START + timedelta(hours=hours)


def test_event_values_are_in_time_order_and_weighted(metric_factory, event_factory):
    # given events stored out of order, one not numeric, one outside the period
    metric = metric_factory(
        "payments",
        aggregation=Aggregation.SUM,
        field_name="amount",
        weights={"property": "fx", "values": {"eur": "1.1"}},
    )
    event_factory(_at(5), {"amount": "20.00"}, code="payments")
    event_factory(_at(1), {"amount": "10.50", "fx": "eur"}, code="payments")
    event_factory(_at(3), {"amount": "n/a"}, code="payments")
    event_factory(END, {"amount": 99}, code="payments")
    event_factory(_at(5), {"amount": 1}, code="payments", received_at=_at(4))
    # when
    values = usage_event_values(metric=metric, customer_id="acme", start=START, end=END)
    # then
    assert values == [Decimal("11.550"), Decimal(1), Decimal("20.00")]


def test_event_values_of_a_count_are_ones(metric_factory, event_factory):
    # given
    metric = metric_factory()
    event_factory(_at(1), subscription_id="s1")
    event_factory(_at(2), subscription_id="s2")
    # when
    values = usage_event_values(
        metric=metric, customer_id="acme", start=START, end=END, subscription_id="s2"
    )
    # then
    assert values == [Decimal(1)]


def test_event_values_of_a_unique_count_mark_new_values(metric_factory, event_factory):
    # given
    metric = metric_factory("users", aggregation=Aggregation.UNIQUE_COUNT, field_name="user")
    for hours, user in ((1, "ann"), (2, "bob"), (3, "ann"), (4, "carl")):
        event_factory(_at(hours), {"user": user}, code="users")
    # when
    values = usage_event_values(metric=metric, customer_id="acme", start=START, end=END)
    # then
    assert values == [Decimal(1), Decimal(1), Decimal(0), Decimal(1)]


def test_summary_lists_every_metric_with_zero_where_unused(
    metric_factory, event_factory, django_assert_num_queries
):
    # given
    calls = metric_factory("calls")
    tokens = metric_factory("tokens", aggregation=Aggregation.SUM, field_name="n")
    seats = metric_factory("seats", aggregation=Aggregation.WEIGHTED_SUM, field_name="n")
    users = metric_factory("users", aggregation=Aggregation.UNIQUE_COUNT, field_name="u")
    event_factory(_at(1), code="calls")
    event_factory(_at(2), code="calls")
    event_factory(_at(2), code="calls", customer_id="globex")
    event_factory(_at(3), {"n": "1.25"}, code="tokens")
    event_factory(START - timedelta(days=1), {"n": 3}, code="seats")
    # when
    with django_assert_num_queries(2):
        summary = usage_summary_for_customer(customer_id="acme", start=START, end=END)
    # then
    assert summary == [
        (calls, UsageResult(quantity=Decimal(2), event_count=2)),
        (seats, UsageResult(quantity=Decimal(3), event_count=0)),
        (tokens, UsageResult(quantity=Decimal("1.25"), event_count=1)),
        (users, UsageResult(quantity=Decimal(0), event_count=0)),
    ]


def test_summary_without_metrics_is_empty(db):
    assert usage_summary_for_customer(customer_id="acme", start=START, end=END) == []
