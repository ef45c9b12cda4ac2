"""Reads over the event store used by ingest, reconciliation and metric changes."""

from collections.abc import Sequence

from metering.ingest.sql import LookupRow, events_lookup_fetch, raw_cursor
from metering.models import BillableMetric, Event


def metric_in_use_by_events(*, metric: BillableMetric) -> bool:
    """Whether any stored event carries the metric's code.

    Rare (admin edits), so it may scan: no index leads with `code`, by design (every key on the
    event table leads with customer_id)."""
    return Event.objects.filter(code=metric.code).exists()


def events_lookup(*, keys: Sequence[tuple[str, str]]) -> list[LookupRow]:
    """For each (customer or member id, transaction_id): whether it landed, when, with what
    payload hash and code; in the order given, in one query."""
    with raw_cursor() as cursor:
        return events_lookup_fetch(cursor, keys)
