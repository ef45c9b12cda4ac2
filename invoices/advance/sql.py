"""The events a pay-in-advance run reads: a metric's contributing events in an id range.

Metering's ``events_sql`` decides which events count for the metric and what each adds (its
filters, weights, the unique value and its ``operation_type``), so fees count exactly what the
period's aggregation would. The range ``(after, upto]`` (a bounded one: the caller reads in
chunks of ids) is read through the event table's BRIN index on id; the join back on
(customer_id, id) adds the event's own key (its transaction id) and the subscription it was
sent for. Rows come in id order, the order events were stored.
"""

from typing import Any

from metering.aggregation import Window, events_sql
from metering.models import BillableMetric


def advance_events_sql(metric: BillableMetric, *, after: int, upto: int) -> tuple[str, list[Any]]:
    """Rows (id, customer_id, transaction_id, subscription_id, timestamp, value, op) of the
    metric's events with ids in ``(after, upto]``."""
    inner, params = events_sql(metric, Window(id_above=after, id_upto=upto), with_operation=True)
    sql = (
        "SELECT s.id, s.customer_id, e.transaction_id, e.subscription_id, s.ts, s.v::text, s.op "
        f"FROM ({inner}) s JOIN metering_event e "
        "ON e.customer_id = s.customer_id AND e.id = s.id "
        "ORDER BY s.id"
    )
    return sql, params
