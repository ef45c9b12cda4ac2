"""Per-window usage counters: how a check knows a customer's usage without aggregating events.

A counter is created from metering's answer (``usage_get``: daily rollups plus the edge days'
events) the first time a window is read, then kept current by the consume path, which adds what
it records in the same transaction. Events that arrive by another road (``POST /events``) mark
the counters of their customer and metric stale through an ingest listener; the next read
recomputes a stale counter under the row's lock, so it never misses a committed event:
an ingest that marks the row while we hold its lock waits, and marks it again after us.
"""

from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from entitlements.models import UsageCounter
from metering.models import Aggregation, BillableMetric, Rounding
from metering.selectors import usage_get

_MARK_STALE = """
UPDATE entitlements_usagecounter AS counter SET stale = true
FROM unnest(%s::text[], %s::text[]) AS stored(customer_id, code)
JOIN plans_customer AS customer ON customer.external_id = stored.customer_id
JOIN metering_billablemetric AS metric ON metric.code = stored.code
WHERE counter.customer_id = customer.id AND counter.metric_id = metric.id AND NOT counter.stale
"""


def counters_mark_stale(stored: set[tuple[str, str]]) -> None:
    """Ingest listener: the counters of these (customer external id, metric code) pairs no
    longer know all their events. One statement per batch."""
    pairs = sorted(stored)
    with connection.cursor() as cursor:
        cursor.execute(_MARK_STALE, [[p[0] for p in pairs], [p[1] for p in pairs]])


def metric_is_additive(metric: BillableMetric) -> bool:
    """True when one recorded event of ``quantity`` adds exactly ``quantity`` to the usage."""
    if metric.filters or metric.rounding != Rounding.NONE:
        return False
    if metric.aggregation == Aggregation.COUNT:
        return True
    return metric.aggregation == Aggregation.SUM and not metric.weights


def _refresh(
    counter: UsageCounter, metric: BillableMetric | None, external_id: str
) -> UsageCounter:
    metric = metric or BillableMetric.objects.get(pk=counter.metric_id)
    usage = usage_get(
        metric=metric,
        customer_id=external_id,
        start=counter.window_start,
        end=counter.window_end,
    )
    counter.quantity = usage.quantity
    counter.stale = False
    counter.refreshed_at = timezone.now()
    counter.save(update_fields=["quantity", "stale", "refreshed_at"])
    return counter


def usage_counter_current(
    *,
    customer_id: int,
    external_id: str,
    metric_id: int,
    window_start: datetime,
    window_end: datetime,
) -> UsageCounter:
    """The window's counter, current: one indexed read when it is fresh; else created or
    recomputed from metering under its row lock."""
    key = {
        "customer_id": customer_id,
        "metric_id": metric_id,
        "window_start": window_start,
        "window_end": window_end,
    }
    counter = UsageCounter.objects.filter(**key).first()
    if counter is not None and not counter.stale:
        return counter
    with transaction.atomic():
        if counter is None:
            UsageCounter.objects.bulk_create([UsageCounter(**key)], ignore_conflicts=True)
        counter = UsageCounter.objects.select_for_update().get(**key)
        if counter.stale:
            counter = _refresh(counter, None, external_id)
    return counter


def usage_counter_lock(
    *, counter: UsageCounter, metric: BillableMetric, external_id: str
) -> UsageCounter:
    """Lock the counter before recording usage, current: from here until the caller's commit, an
    ingest of this customer's events waits on the row, so the only stale mark it can get is the
    one of the caller's own ingest."""
    counter = UsageCounter.objects.select_for_update().get(pk=counter.pk)
    return _refresh(counter, metric, external_id) if counter.stale else counter


def usage_counter_add(
    *,
    counter: UsageCounter,
    metric: BillableMetric,
    external_id: str,
    quantity: Decimal,
    credited: Decimal,
) -> UsageCounter:
    """Count units just recorded on a counter locked by ``usage_counter_lock``; a metric whose
    usage does not grow by the quantity recorded (filters, weights, rounding, max...) is
    recomputed instead."""
    counter.credited += credited
    if metric_is_additive(metric):
        counter.quantity += quantity
        counter.stale = False
        counter.save(update_fields=["quantity", "credited", "stale"])
        return counter
    counter.save(update_fields=["credited"])
    return _refresh(counter, metric, external_id)
