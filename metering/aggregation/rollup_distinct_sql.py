"""SQL of the daily rollup of unique_count metrics: per customer and UTC day, the distinct values
of the property and how many contributing events carried each (`UsageDistinctRollup`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from metering.aggregation.core import MetricDefinition, Params, Window, events_sql
from metering.aggregation.rollup_common import (
    period_split,
    raw_event_parts,
    stale_marker_sql,
    state_current_sql,
)

TABLE = "metering_usagedistinctrollup"
_ROW = "SELECT s.customer_id, s.v, 1::bigint AS n FROM ({events}) s"


def usage_sql(
    metric: MetricDefinition,
    *,
    metric_id: int,
    definition_hash: str,
    watermark: int,
    start: datetime,
    end: datetime,
    customer_ids: Sequence[str] | None,
) -> tuple[str, Params]:
    """The distinct values of the whole days (rollup rows), of the partial edge days (events with
    `id <= W`) and of every event of the period above W, counted per customer: the values are
    grouped per (customer, value) first, then counted, two hash aggregations and no sort."""
    current, current_params = state_current_sql(
        metric_id=metric_id, watermark=watermark, definition_hash=definition_hash
    )
    whole, edges = period_split(start, end)
    parts: list[str] = []
    params: Params = []
    if whole is not None:
        only_listed = "" if customer_ids is None else " AND r.customer_id = ANY(%s)"
        parts.append(
            f"SELECT r.customer_id, r.value AS v, r.event_count AS n FROM {TABLE} r "
            f"WHERE r.metric_id = %s AND r.bucket >= %s AND r.bucket < %s{only_listed}"
        )
        params += [metric_id, *whole, *([] if customer_ids is None else [list(customer_ids)])]
    raw_parts, raw_params = raw_event_parts(
        metric,
        table=TABLE,
        metric_id=metric_id,
        start=start,
        end=end,
        edges=edges,
        watermark=watermark,
        customer_ids=customer_ids,
        row_template=_ROW,
    )
    parts += raw_parts
    params += raw_params
    sql = (
        "SELECT d.customer_id, sum(d.n)::bigint AS event_count, count(*)::numeric AS quantity "
        "FROM (SELECT u.customer_id, u.v, sum(u.n) AS n "
        f"FROM ({' UNION ALL '.join(parts)}) u GROUP BY u.customer_id, u.v) d "
        f"GROUP BY d.customer_id UNION ALL {stale_marker_sql(current)}"
    )
    return sql, [*params, *current_params]


def refresh_sql(
    metric: MetricDefinition, *, metric_id: int, id_above: int, id_upto: int
) -> tuple[str, Params]:
    """Adds the values of the metric's events with ids in `(id_above, id_upto]` to its rows."""
    events, params = events_sql(metric, Window(id_above=id_above, id_upto=id_upto))
    sql = (
        f"INSERT INTO {TABLE} AS r (customer_id, metric_id, bucket, value, event_count) "
        "SELECT s.customer_id, %s, date_trunc('day', s.ts, 'UTC'), s.v, count(*) "
        f"FROM ({events}) s GROUP BY 1, 3, 4 "
        "ON CONFLICT (customer_id, metric_id, bucket, value) DO UPDATE SET "
        "event_count = r.event_count + EXCLUDED.event_count"
    )
    return sql, [metric_id, *params]
