"""Counters made stale by directly ingested events, recomputed on beat, and their alerts."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from entitlements.alerts import usage_alerts_evaluate
from entitlements.counters import usage_counter_current
from entitlements.models import UsageCounter
from entitlements.selectors import (
    entitlements_list,
)
from plans.models import Customer

STALE_BATCH = 500


def usage_counters_refresh_stale(*, at: datetime | None = None, limit: int = STALE_BATCH) -> int:
    """Recompute counters that direct ingest marked stale and fire the usage alerts they now
    cross: usage sent through ``POST /events`` (not consume) alerts within a beat interval.
    Idempotent: alerts fire once per window, and a fresh counter is left alone."""
    at = at or timezone.now()
    stale = list(
        UsageCounter.objects.filter(stale=True, window_end__gt=at)
        .order_by("id")
        .values_list("id", "customer_id")[:limit]
    )
    customers = Customer.objects.in_bulk({customer_id for _, customer_id in stale})
    for counter_id, customer_id in stale:
        customer = customers[customer_id]
        with transaction.atomic():
            counter = UsageCounter.objects.get(pk=counter_id)
            usage_counter_current(
                customer_id=customer.pk,
                external_id=customer.external_id,
                metric_id=counter.metric_id,
                window_start=counter.window_start,
                window_end=counter.window_end,
            )
            for decision in entitlements_list(customer=customer, at=at):
                if decision.counter is not None and decision.counter.pk == counter_id:
                    usage_alerts_evaluate(decision=decision, thresholds=decision.alert_thresholds)
    return len(stale)
