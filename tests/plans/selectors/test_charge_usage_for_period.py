"""A charge's priced results per filter and group over a period: the invoice's read."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import count

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metering.models import BillableMetric, Event
from plans.selectors import charge_usage_for_period, pricing_for_subscription
from plans.services import charge_create, plan_version_publish
from tests.plans.factories import make_customer, make_plan, make_subscription, make_version

pytestmark = pytest.mark.django_db

APRIL = (datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))
MARCH_START = datetime(2026, 3, 1, tzinfo=UTC)
_ids = count(1)


def _event(code: str, at: datetime, **properties) -> None:
    n = next(_ids)
    Event.objects.create(
        customer_id="acme",
        transaction_id=f"t-{n}",
        code=code,
        timestamp=at,
        received_at=at,
        properties=properties,
        payload_hash=f"{n:032x}",
    )


def _subscribe(metric: BillableMetric, model: str, properties: dict, **charge):
    version = make_version(make_plan("llm"))
    charge_create(
        version=version,
        metric=metric,
        charge_model=model,
        properties=properties,
        invoice_display_name="LLM tokens",
        **charge,
    )
    version = plan_version_publish(version=version)
    subscription = make_subscription(version, make_customer("acme"), started_at=MARCH_START)
    (effective,) = pricing_for_subscription(subscription=subscription, at=APRIL[0]).charges
    return subscription, effective


def _usage(subscription, charge, period=APRIL):
    return charge_usage_for_period(
        subscription=subscription, charge=charge, start=period[0], end=period[1]
    )


def _day(n: int) -> datetime:
    return APRIL[0] + timedelta(days=n - 1, hours=12)


def test_overlapping_filters_price_each_event_once_by_the_most_specific(
    django_assert_num_queries,
):
    # given eu at 0.01, us at 0.02 and us+gpu at 0.05 per token (listed before the narrower one
    # on purpose), the rest at the default 0.001
    tokens = BillableMetric.objects.create(
        code="tokens", name="Tokens", aggregation="sum", field_name="n"
    )
    subscription, charge = _subscribe(
        tokens,
        "standard",
        {"amount": "0.001"},
        filters=[
            {"values": {"region": ["us"]}, "properties": {"amount": "0.02"}},
            {
                "values": {"region": ["us"], "tier": ["gpu"]},
                "properties": {"amount": "0.05"},
                "invoice_display_name": "US GPU tokens",
            },
            {"values": {"region": ["eu"]}, "properties": {"amount": "0.01"}},
        ],
    )
    _event("tokens", _day(2), n=100, region="eu")
    _event("tokens", _day(3), n=200, region="us")
    _event("tokens", _day(4), n=300, region="us", tier="gpu")
    _event("tokens", _day(5), n=1000, region="apac")
    # when: one query for the metric, one for all filters
    with django_assert_num_queries(2):
        usage = _usage(subscription, charge)
    # then default 1000 x 0.001 = 1; us 200 x 0.02 = 4; us+gpu 300 x 0.05 = 15; eu 1
    assert [(r.filter_index, r.display_name, r.units, r.amount) for r in usage.results] == [
        (None, "LLM tokens", Decimal(1000), Decimal("1.000")),
        (0, "LLM tokens (region: us)", Decimal(200), Decimal("4.00")),
        (1, "US GPU tokens", Decimal(300), Decimal("15.00")),
        (2, "LLM tokens (region: eu)", Decimal(100), Decimal("1.00")),
    ]
    assert usage.amount == Decimal(21)
    assert usage.event_count == 4


def test_without_default_properties_events_matching_no_filter_are_not_billed():
    # given only an eu filter and empty default properties
    calls = BillableMetric.objects.create(code="calls", name="Calls", aggregation="count")
    subscription, charge = _subscribe(
        calls,
        "standard",
        {},
        filters=[{"values": {"region": ["eu"]}, "properties": {"amount": "2"}}],
    )
    _event("calls", _day(1), region="eu")
    _event("calls", _day(1), region="us")
    # when
    usage = _usage(subscription, charge)
    # then
    assert [(r.filter_index, r.units, r.amount) for r in usage.results] == [
        (0, Decimal(1), Decimal(2)),
    ]


def test_pricing_groups_give_one_result_per_group_and_one_for_events_without_the_key():
    # given standard {amount: 10, grouped_by: [region]}: 2 calls in us, 1 in eu, 1 without
    calls = BillableMetric.objects.create(code="calls", name="Calls", aggregation="count")
    subscription, charge = _subscribe(calls, "standard", {"amount": "10", "grouped_by": ["region"]})
    for region in ("us", "us", "eu"):
        _event("calls", _day(3), region=region)
    _event("calls", _day(4))
    # when
    usage = _usage(subscription, charge)
    # then
    assert [(r.group, r.units, r.amount) for r in usage.results] == [
        ({"region": "eu"}, Decimal(1), Decimal(10)),
        ({"region": "us"}, Decimal(2), Decimal(20)),
        ({"region": None}, Decimal(1), Decimal(10)),
    ]


def test_a_prorated_seat_on_day_10_of_a_30_day_month_bills_21_thirtieths():
    # given 30 per seat per month, prorated; u1 joins on April 10 (21 of 30 days), u2 was there
    # all month
    seats = BillableMetric.objects.create(
        code="seats",
        name="Seats",
        aggregation="unique_count",
        field_name="user_id",
        recurring=True,
    )
    subscription, charge = _subscribe(seats, "standard", {"amount": "30"}, prorated=True)
    _event("seats", MARCH_START + timedelta(days=3), user_id="u2")
    _event("seats", _day(10), user_id="u1", operation_type="add")
    # when
    (result,) = _usage(subscription, charge).results
    # then (21 + 30) / 30 = 1.7 seats, 51.00
    assert result.units == Decimal("1.7")
    assert result.amount == Decimal(51)
    assert [(p.unit, p.days, p.period_days) for p in result.prorations] == [
        ("u1", 21, 30),
        ("u2", 30, 30),
    ]


def test_a_percentage_filter_prices_its_own_transactions():
    # given 1% plus 0.10 per transaction on eu payments
    payments = BillableMetric.objects.create(
        code="payments", name="Payments", aggregation="sum", field_name="amount"
    )
    subscription, charge = _subscribe(
        payments,
        "percentage",
        {},
        filters=[
            {"values": {"region": ["eu"]}, "properties": {"rate": "1", "fixed_amount": "0.10"}}
        ],
    )
    _event("payments", _day(1), amount=100, region="eu")
    _event("payments", _day(2), amount=50, region="eu")
    _event("payments", _day(2), amount=70, region="us")
    # when
    (result,) = _usage(subscription, charge).results
    # then 1% of 150 + 2 x 0.10
    assert result.amount == Decimal("1.70")


REGIONS = ("eu", "us", "apac")
TIERS = ("gpu", "cpu")


@pytest.fixture
def overlapping_filters():
    """A price of 1 per token everywhere, so each result's amount is its units, and filters
    that overlap (us, us+gpu, gpu)."""
    tokens = BillableMetric.objects.create(
        code="tokens", name="Tokens", aggregation="sum", field_name="n"
    )
    return _subscribe(
        tokens,
        "standard",
        {"amount": "1", "grouped_by": ["region"]},
        filters=[
            {"values": {"region": ["us"]}, "properties": {"amount": "1"}},
            {"values": {"region": ["us"], "tier": ["gpu"]}, "properties": {"amount": "1"}},
            {"values": {"tier": ["gpu"]}, "properties": {"amount": "1", "grouped_by": ["tier"]}},
        ],
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    events=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=1000),
            st.sampled_from((*REGIONS, None)),
            st.sampled_from((*TIERS, None)),
        ),
        max_size=12,
    )
)
def test_filtered_results_plus_the_default_price_every_event_exactly_once(
    overlapping_filters, events
):
    # given
    subscription, charge = overlapping_filters
    Event.objects.all().delete()
    for n, region, tier in events:
        properties = {"n": n} | ({"region": region} if region else {})
        _event("tokens", _day(7), **properties | ({"tier": tier} if tier else {}))
    # when
    usage = _usage(subscription, charge)
    # then every token is priced once, whichever filter or group took it
    total = sum(n for n, _, _ in events)
    assert usage.amount == total
    assert usage.units == total
    assert usage.event_count == len(events)
    gpu_us = sum(n for n, region, tier in events if region == "us" and tier == "gpu")
    assert sum(r.units for r in usage.results if r.filter_index == 1) == gpu_us
