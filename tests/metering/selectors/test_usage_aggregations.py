from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from metering.aggregation import UsageResult
from metering.models import Aggregation
from metering.selectors import usage_get

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
MID = datetime(2026, 3, 15, 12, tzinfo=UTC)


def _usage(metric, customer_id="acme", **kwargs):
    return usage_get(
        metric=metric,
        customer_id=customer_id,
        start=kwargs.pop("start", START),
        end=kwargs.pop("end", END),
        **kwargs,
    )


@pytest.mark.parametrize(
    "aggregation",
    [
        Aggregation.COUNT,
        Aggregation.SUM,
        Aggregation.MAX,
        Aggregation.LAST,
        Aggregation.UNIQUE_COUNT,
        Aggregation.WEIGHTED_SUM,
    ],
)
def test_empty_period_is_zero_with_no_events(metric_factory, event_factory, aggregation):
    # given a metric whose only events fall outside the period
    field = "" if aggregation == Aggregation.COUNT else "value"
    metric = metric_factory(aggregation=aggregation, field_name=field)
    event_factory(END, {"value": 5})
    # when
    usage = _usage(metric)
    # then
    assert usage == UsageResult(quantity=Decimal(0), event_count=0)


def test_count_includes_an_event_exactly_at_start_and_excludes_one_exactly_at_end(
    metric_factory, event_factory
):
    # given
    metric = metric_factory()
    event_factory(START - timedelta(microseconds=1))
    event_factory(START)
    event_factory(MID)
    event_factory(END - timedelta(microseconds=1))
    event_factory(END)
    # when
    usage = _usage(metric)
    # then
    assert usage == UsageResult(quantity=Decimal(3), event_count=3)


def test_count_reads_only_its_own_code_and_customer(metric_factory, event_factory):
    # given
    metric = metric_factory()
    event_factory(MID)
    event_factory(MID, code="other")
    event_factory(MID, customer_id="globex")
    # when
    usage = _usage(metric)
    # then
    assert usage == UsageResult(quantity=Decimal(1), event_count=1)


def test_sum_is_exact_in_decimal(metric_factory, event_factory):
    # given three events of 0.1, as JSON numbers and as decimal strings
    metric = metric_factory("tokens", aggregation=Aggregation.SUM, field_name="amount")
    event_factory(MID, {"amount": 0.1}, code="tokens")
    event_factory(MID, {"amount": "0.1"}, code="tokens")
    event_factory(MID, {"amount": "0.1"}, code="tokens")
    # when
    usage = _usage(metric)
    # then
    assert usage.quantity == Decimal("0.3")
    assert usage.event_count == 3
    assert isinstance(usage.quantity, Decimal)


def test_sum_keeps_large_and_precise_values_exact(metric_factory, event_factory):
    # given
    metric = metric_factory("tokens", aggregation=Aggregation.SUM, field_name="amount")
    event_factory(MID, {"amount": "123456789012345678901234567890.000000000001"}, code="tokens")
    event_factory(MID, {"amount": "1e3"}, code="tokens")
    event_factory(MID, {"amount": -0.5}, code="tokens")
    # when
    usage = _usage(metric)
    # then
    assert usage.quantity == Decimal("123456789012345678901234568889.500000000001")


@pytest.mark.parametrize(
    ("_case", "value"),
    [
        ("missing", None),
        ("text", "abc"),
        ("boolean", True),
        ("null", "null"),
        ("object", {"n": 1}),
        ("not a number", "NaN"),
        ("infinity", "Infinity"),
        ("huge exponent", "1e99999"),
    ],
)
@pytest.mark.parametrize(
    "aggregation",
    [Aggregation.SUM, Aggregation.MAX, Aggregation.LAST, Aggregation.WEIGHTED_SUM],
)
def test_numeric_aggregations_skip_events_without_a_number(
    metric_factory, event_factory, aggregation, _case, value
):
    # given one good event and one whose property is not a usable number, received later
    metric = metric_factory("gauge", aggregation=aggregation, field_name="value")
    event_factory(START, {"value": "4"}, code="gauge")
    properties = {"other": 1} if value is None else {"value": None if value == "null" else value}
    event_factory(MID, properties, code="gauge")
    # when
    usage = _usage(metric)
    # then
    assert usage == UsageResult(quantity=Decimal(4), event_count=1)


def test_max_is_the_largest_value(metric_factory, event_factory):
    # given
    metric = metric_factory("seats", aggregation=Aggregation.MAX, field_name="seats")
    for at, seats in ((START, 3), (MID, "12.5"), (END - timedelta(seconds=1), -2)):
        event_factory(at, {"seats": seats}, code="seats")
    event_factory(END, {"seats": 99}, code="seats")
    # when
    usage = _usage(metric)
    # then
    assert usage == UsageResult(quantity=Decimal("12.5"), event_count=3)


def test_last_is_the_value_of_the_latest_event_by_timestamp(metric_factory, event_factory):
    # given the latest event by timestamp was received first
    metric = metric_factory("seats", aggregation=Aggregation.LAST, field_name="seats")
    event_factory(MID, {"seats": 7}, code="seats", received_at=END)
    event_factory(START, {"seats": 9}, code="seats", received_at=END + timedelta(days=1))
    event_factory(END, {"seats": 11}, code="seats")
    # when
    usage = _usage(metric)
    # then
    assert usage == UsageResult(quantity=Decimal(7), event_count=2)


def test_last_breaks_timestamp_ties_by_receipt_time_then_id(metric_factory, event_factory):
    # given three events at the same instant: two received together, one received earlier
    metric = metric_factory("seats", aggregation=Aggregation.LAST, field_name="seats")
    event_factory(MID, {"seats": 1}, code="seats", received_at=MID + timedelta(seconds=9))
    event_factory(MID, {"seats": 2}, code="seats", received_at=MID + timedelta(seconds=9))
    event_factory(MID, {"seats": 3}, code="seats", received_at=MID + timedelta(seconds=1))
    # when
    usage = _usage(metric)
    # then the latest received wins, and of those the one stored last
    assert usage == UsageResult(quantity=Decimal(2), event_count=3)


def test_unique_count_counts_distinct_values_and_ignores_events_without_the_property(
    metric_factory, event_factory
):
    # given
    metric = metric_factory("users", aggregation=Aggregation.UNIQUE_COUNT, field_name="user_id")
    for user in ("ann", "bob", "ann", 7, "7"):
        event_factory(MID, {"user_id": user}, code="users")
    event_factory(MID, {"other": "carl"}, code="users")
    event_factory(MID, {"user_id": None}, code="users")
    # when
    usage = _usage(metric)
    # then 7 and "7" are one value: values compare as text
    assert usage == UsageResult(quantity=Decimal(3), event_count=5)


def test_unique_count_of_member_id_counts_the_members_events_were_sent_with(
    metric_factory, event_factory
):
    # given events sent with two seat users' ids and one with the customer's own id
    metric = metric_factory("seats", aggregation=Aggregation.UNIQUE_COUNT, field_name="member_id")
    event_factory(MID, code="seats", member_id="user-1")
    event_factory(MID, code="seats", member_id="user-2")
    event_factory(MID, code="seats", member_id="user-1")
    event_factory(MID, code="seats")
    # when
    usage = _usage(metric)
    # then
    assert usage == UsageResult(quantity=Decimal(2), event_count=3)


def test_sum_weighs_each_event_by_a_property_value(metric_factory, event_factory):
    # given premium calls worth 2, batch calls 0.5, anything else 1
    metric = metric_factory(
        "calls",
        aggregation=Aggregation.SUM,
        field_name="calls",
        weights={"property": "tier", "values": {"premium": 2, "batch": "0.5"}, "default": 1},
    )
    event_factory(MID, {"calls": 10, "tier": "premium"}, code="calls")
    event_factory(MID, {"calls": 10, "tier": "batch"}, code="calls")
    event_factory(MID, {"calls": 10, "tier": "free"}, code="calls")
    event_factory(MID, {"calls": 10}, code="calls")
    # when
    usage = _usage(metric)
    # then
    assert usage == UsageResult(quantity=Decimal("45.0"), event_count=4)


def test_sum_weights_default_to_one(metric_factory, event_factory):
    # given
    metric = metric_factory(
        "calls",
        aggregation=Aggregation.SUM,
        field_name="calls",
        weights={"property": "tier", "values": {"premium": 3}},
    )
    event_factory(MID, {"calls": 2, "tier": "premium"}, code="calls")
    event_factory(MID, {"calls": 2, "tier": "basic"}, code="calls")
    # when
    usage = _usage(metric)
    # then
    assert usage.quantity == Decimal(8)


def test_subscription_id_narrows_to_that_subscriptions_events(metric_factory, event_factory):
    # given
    metric = metric_factory("tokens", aggregation=Aggregation.SUM, field_name="n")
    event_factory(MID, {"n": 1}, code="tokens", subscription_id="sub-1")
    event_factory(MID, {"n": 2}, code="tokens", subscription_id="sub-2")
    event_factory(MID, {"n": 4}, code="tokens")
    # when
    narrowed = _usage(metric, subscription_id="sub-1")
    everything = _usage(metric)
    # then
    assert narrowed == UsageResult(quantity=Decimal(1), event_count=1)
    assert everything == UsageResult(quantity=Decimal(7), event_count=3)


@pytest.mark.parametrize(
    ("aggregation", "queries"),
    [
        # the rollup state (none yet here), then the events; `last` has no rollup
        (Aggregation.SUM, 2),
        (Aggregation.LAST, 1),
        (Aggregation.UNIQUE_COUNT, 2),
        (Aggregation.WEIGHTED_SUM, 2),
    ],
)
def test_usage_get_is_a_fixed_number_of_queries(
    metric_factory, event_factory, django_assert_num_queries, aggregation, queries
):
    # given
    metric = metric_factory("tokens", aggregation=aggregation, field_name="n")
    for i in range(5):
        event_factory(MID + timedelta(seconds=i), {"n": i}, code="tokens")
    # when / then
    with django_assert_num_queries(queries):
        usage = _usage(metric)
    assert usage.event_count == 5


def test_naive_period_bounds_are_refused(metric_factory):
    # given
    metric = metric_factory()
    # when / then
    with pytest.raises(ValueError, match="aware"):
        _usage(metric, start=datetime(2026, 3, 1))  # noqa: DTZ001
    with pytest.raises(ValueError, match="end after"):
        _usage(metric, start=END, end=START)
