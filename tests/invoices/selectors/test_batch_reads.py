"""A billing batch reads usage and pricing in a fixed number of statements, however many
subscriptions it holds."""

import pytest

from invoices.selectors.billing import billing_segments, plain_subscription_ids
from invoices.selectors.usage import UsageLookup, UsageRequest
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc

pytestmark = pytest.mark.django_db

JAN, FEB = utc(2026, 1, 1), utc(2026, 2, 1)


def batch(size: int, offset: int = 0) -> list:
    version = plan_version(
        charges={
            "tokens": ("standard", {"amount": "0.01"}),
            "api-calls": ("standard", {"amount": "0.10"}),
        }
    )
    subscriptions = []
    for n in range(offset, offset + size):
        subscriptions.append(subscribe(version, f"c{n}", started_at=JAN))
        send_tokens(f"c{n}", n + 1, at=utc(2026, 1, 5))
    return subscriptions


@pytest.mark.parametrize("size", [2, 8])
def test_usage_of_a_batch_is_three_statements_per_metric_whatever_its_size(
    size, django_assert_num_queries
):
    # given subscriptions on a plan with two charges
    subscriptions = batch(size)
    metric_ids = list(subscriptions[0].version.charges.values_list("metric_id", flat=True))
    requests = [
        UsageRequest(metric_id, s.customer.external_id, JAN, FEB)
        for s in subscriptions
        for metric_id in metric_ids
    ]

    # when the batch's usage is read: the metrics, then per metric its rollup watermark (none
    # yet here, so the events are read), the usage and the digests
    lookup = UsageLookup()
    with django_assert_num_queries(1 + 3 * len(metric_ids)):
        lookup.prefetch(requests)

    # then every fact is answered without another statement
    with django_assert_num_queries(0):
        facts = [
            lookup.get(metric_id=r.metric_id, customer_id=r.customer_id, start=JAN, end=FEB)
            for r in requests
        ]
    tokens = [f for f, r in zip(facts, requests, strict=True) if r.metric_id == metric_ids[0]]
    assert [f.units for f in tokens] == list(range(1, size + 1))
    assert all(len(f.events_digest) == 32 for f in tokens)


@pytest.mark.parametrize("size", [2, 8])
def test_plain_subscriptions_are_priced_once_per_version(size, django_assert_num_queries):
    subscriptions = batch(size)
    lookup = UsageLookup()
    with django_assert_num_queries(2):
        lookup.plain = plain_subscription_ids([s.pk for s in subscriptions])
    assert lookup.plain == {s.pk for s in subscriptions}

    billing_segments(subscription=subscriptions[0], period_start=JAN, period_end=FEB, lookup=lookup)
    with django_assert_num_queries(0):
        for subscription in subscriptions[1:]:
            (segment,) = billing_segments(
                subscription=subscription, period_start=JAN, period_end=FEB, lookup=lookup
            )
            assert segment.pricing.subscription_id == subscription.pk
