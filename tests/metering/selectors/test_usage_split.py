"""Usage split by buckets (a charge's filters) and groups (its grouping keys) in one query."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from metering.aggregation import ANY_VALUE, Split
from metering.models import Aggregation
from metering.selectors import SplitUsage, usage_split_get

pytestmark = pytest.mark.django_db

START = datetime(2026, 4, 1, tzinfo=UTC)
END = datetime(2026, 5, 1, tzinfo=UTC)


def _split(metric, split):
    return usage_split_get(metric=metric, customer_id="acme", start=START, end=END, split=split)


def test_each_event_goes_to_the_first_bucket_it_matches(
    metric_factory, event_factory, django_assert_num_queries
):
    # given tokens in eu, us and us+gpu, and one with no region
    tokens = metric_factory("tokens", aggregation=Aggregation.SUM, field_name="n")
    for properties in (
        {"n": 1, "region": "eu"},
        {"n": 2, "region": "us"},
        {"n": 4, "region": "us", "tier": "gpu"},
        {"n": 8, "region": "us", "tier": "gpu"},
        {"n": 16},
    ):
        event_factory(START + timedelta(days=1), properties, code="tokens")
    split = Split(buckets=({"region": ["us"], "tier": ["gpu"]}, {"region": ["us", "eu"]}))
    # when
    with django_assert_num_queries(1):
        usage = _split(tokens, split)
    # then us+gpu goes to the more specific bucket 0, eu and plain us to bucket 1
    assert usage == [
        SplitUsage(-1, (), Decimal(16), 1),
        SplitUsage(0, (), Decimal(12), 2),
        SplitUsage(1, (), Decimal(3), 2),
    ]


def test_groups_split_a_bucket_and_events_without_the_key_form_their_own_group(
    metric_factory, event_factory
):
    # given calls in us (2), eu (1) and one without a region
    calls = metric_factory("api_calls")
    for region in ("us", "us", "eu", None):
        event_factory(START + timedelta(hours=1), {"region": region} if region else {})
    # when
    usage = _split(calls, Split(group_keys=("region",)))
    # then
    assert usage == [
        SplitUsage(-1, ("eu",), Decimal(1), 1),
        SplitUsage(-1, ("us",), Decimal(2), 2),
        SplitUsage(-1, (None,), Decimal(1), 1),
    ]


def test_a_bucket_may_accept_any_value_of_a_key_and_group_by_its_own_keys(
    metric_factory, event_factory
):
    # given
    calls = metric_factory("api_calls")
    for properties in ({"model": "a", "region": "eu"}, {"model": "b", "region": "eu"}, {}):
        event_factory(START + timedelta(hours=1), properties)
    split = Split(buckets=({"model": [ANY_VALUE]},), group_keys=(), bucket_group_keys=(("model",),))
    # when
    usage = _split(calls, split)
    # then
    assert usage == [
        SplitUsage(-1, (), Decimal(1), 1),
        SplitUsage(0, ("a",), Decimal(1), 1),
        SplitUsage(0, ("b",), Decimal(1), 1),
    ]


def test_a_gauge_is_weighted_per_group(metric_factory, event_factory):
    # given a gauge of 10 in eu all period and 30 in us from day 15 of 30
    gauge = metric_factory("gpus", aggregation=Aggregation.WEIGHTED_SUM, field_name="n")
    event_factory(START - timedelta(days=1), {"n": 10, "region": "eu"}, code="gpus")
    event_factory(START + timedelta(days=15), {"n": 30, "region": "us"}, code="gpus")
    # when
    usage = _split(gauge, Split(group_keys=("region",)))
    # then
    assert usage == [
        SplitUsage(-1, ("eu",), Decimal(10), 0),
        SplitUsage(-1, ("us",), Decimal(15), 1),
    ]
