"""Set-based statements of the billing run (kept apart from the services, as metering does).

The digest of a usage line proves which events it priced: md5 over the ids of the metric's
contributing events in the window, in id order. Event rows are never rewritten, so a re-rate
that sees the same events computes the same digest. One statement per (metric, window) answers
every listed customer.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from metering.aggregation import MetricDefinition, Split, Window, events_sql


def events_digest_sql(
    metric: MetricDefinition, *, start: datetime, end: datetime, customer_ids: Sequence[str]
) -> tuple[str, list[Any]]:
    """Rows (customer_id, event_count, digest) for the listed customers with events."""
    events, params = events_sql(
        metric, Window(start=start, end=end, customer_ids=list(customer_ids))
    )
    sql = (
        "SELECT s.customer_id, count(*), md5(string_agg(s.id::text, ',' ORDER BY s.id)) "
        f"FROM ({events}) s GROUP BY s.customer_id"
    )
    return sql, params


def late_events_exist_sql() -> str:
    """Whether the customer has events of the window received after a moment: one index range
    per customer (the event keys lead with customer_id)."""
    return (
        "SELECT EXISTS (SELECT 1 FROM metering_event e WHERE e.customer_id = %s "
        "AND e.timestamp >= %s AND e.timestamp < %s AND e.received_at > %s)"
    )


def events_digest_split_sql(
    metric: MetricDefinition, *, start: datetime, end: datetime, customer_id: str, split: Split
) -> tuple[str, list[Any]]:
    """Rows (bucket, group values, event_count, digest) of one customer's events, per filter
    bucket and pricing group of ``split``, in one statement: the digest of each usage line of a
    charge with filters or groups."""
    events, params = events_sql(
        metric, Window(start=start, end=end, customer_ids=[customer_id]), split=split
    )
    sql = (
        "SELECT s.f, s.g, count(*), md5(string_agg(s.id::text, ',' ORDER BY s.id)) "
        f"FROM ({events}) s GROUP BY s.f, s.g"
    )
    return sql, params
