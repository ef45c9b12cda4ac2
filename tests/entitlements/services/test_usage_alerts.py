from decimal import Decimal

import pytest

from billing_site.core.models import WebhookDelivery, WebhookEndpoint
from entitlements.models import UsageAlert
from entitlements.services import entitlement_consume
from tests.entitlements.factories import grant, subscribe

D = Decimal
pytestmark = pytest.mark.django_db


def _consume(customer, quantity: str, tid: str) -> list[int]:
    return entitlement_consume(
        customer=customer, feature="api-calls", quantity=D(quantity), transaction_id=tid
    ).body["alerts"]


def test_each_threshold_fires_once_per_period_as_an_alert_and_a_webhook():
    # given: 10 included, alerts at 80% and 100%, an endpoint for usage alerts
    customer, _, _ = subscribe(limit=D(10))
    endpoint = WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/hook", secret="s", event_types=["usage.threshold_reached"]
    )
    # when: usage goes 7, 8, 9, 10, then a retry of the last one
    fired = [_consume(customer, q, t) for q, t in (("7", "a"), ("1", "b"), ("1", "c"), ("1", "d"))]
    retry = _consume(customer, "1", "d")
    # then: 80% fired at 8, 100% at 10, each once
    assert fired == [[], [80], [], [100]]
    assert retry == [100]  # the replayed first answer, nothing fired again
    assert list(UsageAlert.objects.order_by("threshold").values_list("threshold", "used")) == [
        (80, D(8)),
        (100, D(10)),
    ]
    deliveries = WebhookDelivery.objects.filter(endpoint=endpoint).order_by("id")
    assert [d.payload["threshold"] for d in deliveries] == [80, 100]
    assert deliveries[0].payload["customer_id"] == "acme"
    assert deliveries[0].payload["used"] == "8.0000"


def test_the_allowance_includes_credits():
    # given: 10 included plus 10 credits: 80% is 16
    customer, _, feature = subscribe(limit=D(10))
    grant(customer, feature, "10")
    # when
    fired = [_consume(customer, "15", "a"), _consume(customer, "1", "b")]
    # then
    assert fired == [[], [80]]


def test_usage_ingested_directly_fires_its_alerts_on_the_next_counter_refresh():
    # given: 10 included, a counter read once, then 9 events sent through ingest
    from django.utils import timezone

    from entitlements.selectors import entitlement_get
    from entitlements.services import usage_counters_refresh_stale
    from metering.services import usage_events_ingest

    customer, _, _ = subscribe(limit=D(10))
    entitlement_get(customer=customer, feature="api-calls")
    now = timezone.now()
    usage_events_ingest(
        events=[
            {
                "transaction_id": f"direct-{n}",
                "customer_id": "acme",
                "code": "api-calls",
                "timestamp": now.isoformat(),
            }
            for n in range(9)
        ]
    )
    # when: the beat task runs twice
    first = usage_counters_refresh_stale()
    second = usage_counters_refresh_stale()
    # then: the counter was recomputed once and 80% fired once
    assert (first, second) == (1, 0)
    assert list(UsageAlert.objects.values_list("threshold", "used")) == [(80, D(9))]
