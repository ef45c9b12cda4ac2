"""SQL of the daily usage rollups (see `metering/rollups.py`): daily totals of count, sum and max
metrics here; distinct values of unique_count metrics in `rollup_distinct_sql`; a gauge's day of
weighted_sum metrics in `rollup_gauge_sql`. `rollup_usage_sql` and `rollup_refresh_sql` pick the
one of the metric's aggregation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from metering.aggregation import rollup_distinct_sql, rollup_gauge_sql
from metering.aggregation.core import (
    COUNT,
    MAX,
    SUM,
    UNIQUE_COUNT,
    WEIGHTED_SUM,
    MetricDefinition,
    Params,
    Window,
    events_sql,
    is_recurring,
)
from metering.aggregation.rollup_common import (
    period_split,
    raw_event_parts,
    stale_marker_sql,
    state_current_sql,
)

_ROW = "SELECT s.customer_id, 1::bigint AS n, s.v AS s, s.v AS m FROM ({events}) s"
_QUANTITY = {COUNT: "sum(x.n)::numeric", SUM: "sum(x.s)", MAX: "max(x.m)"}


def rollup_usage_sql(
    metric: MetricDefinition,
    *,
    metric_id: int,
    definition_hash: str,
    watermark: int,
    start: datetime,
    end: datetime,
    customer_ids: Sequence[str] | None = None,
    snapshot_month: datetime | None = None,
) -> tuple[str, Params]:
    """`usage_sql` read from the metric's daily rollup, exactly equal to it, as rows
    (customer_id, event_count, quantity).

    The rollup of watermark W holds every contributing event with `id <= W`, by UTC day. For
    count/sum/max the result adds: the rollup rows of the whole days inside the period; the
    events with `id <= W` in the partial days at its edges; and every event of the period above
    W (late, or new since the last refresh), which the planner reads by primary-key range when W
    is recent.

    The statement reads the rollup state in its own snapshot: when the state no longer has
    watermark W and this definition (a refresh committed since W was read), it returns one row
    with a NULL customer_id instead, and the caller reads W again.

    A recurring unique_count also reads the monthly snapshot of its state (the latest month
    start up to `snapshot_month`, the state's; None reads the daily rows of all earlier days).
    """
    arguments = {
        "metric_id": metric_id,
        "definition_hash": definition_hash,
        "watermark": watermark,
        "start": start,
        "end": end,
        "customer_ids": customer_ids,
    }
    if metric.aggregation == UNIQUE_COUNT and is_recurring(metric):
        return rollup_distinct_sql.recurring_usage_sql(
            metric, **arguments, snapshot_month=snapshot_month
        )
    if metric.aggregation == UNIQUE_COUNT:
        return rollup_distinct_sql.usage_sql(metric, **arguments)
    if metric.aggregation == WEIGHTED_SUM:
        return rollup_gauge_sql.usage_sql(metric, **arguments)
    return _totals_usage_sql(metric, **arguments)


def rollup_refresh_sql(
    metric: MetricDefinition, *, metric_id: int, id_above: int, id_upto: int
) -> tuple[str, Params]:
    """Folds the metric's contributing events with ids in `(id_above, id_upto]` into its daily
    rollup rows (UTC days)."""
    if metric.aggregation == UNIQUE_COUNT:
        return rollup_distinct_sql.refresh_sql(
            metric, metric_id=metric_id, id_above=id_above, id_upto=id_upto
        )
    if metric.aggregation == WEIGHTED_SUM:
        return rollup_gauge_sql.refresh_sql(
            metric, metric_id=metric_id, id_above=id_above, id_upto=id_upto
        )
    return _totals_refresh_sql(metric, metric_id=metric_id, id_above=id_above, id_upto=id_upto)


def _totals_usage_sql(
    metric: MetricDefinition,
    *,
    metric_id: int,
    definition_hash: str,
    watermark: int,
    start: datetime,
    end: datetime,
    customer_ids: Sequence[str] | None,
) -> tuple[str, Params]:
    current, current_params = state_current_sql(
        metric_id=metric_id, watermark=watermark, definition_hash=definition_hash
    )
    listed: Params = [] if customer_ids is None else [list(customer_ids)]
    only_listed = "" if customer_ids is None else " AND r.customer_id = ANY(%s)"
    whole, edges = period_split(start, end)
    parts: list[str] = []
    params: Params = []
    if whole is not None:
        parts.append(
            "SELECT r.customer_id, r.event_count AS n, r.value_sum AS s, r.value_max AS m "
            f"FROM metering_usagerollup r WHERE r.metric_id = %s "
            f"AND r.bucket >= %s AND r.bucket < %s{only_listed}"
        )
        params += [metric_id, *whole, *listed]
    raw_parts, raw_params = raw_event_parts(
        metric,
        table="metering_usagerollup",
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
        "SELECT x.customer_id, sum(x.n)::bigint AS event_count, "
        f"{_QUANTITY[metric.aggregation]} AS quantity "
        f"FROM ({' UNION ALL '.join(parts)}) x GROUP BY x.customer_id "
        f"UNION ALL {stale_marker_sql(current)}"
    )
    return sql, [*params, *current_params]


def _totals_refresh_sql(
    metric: MetricDefinition, *, metric_id: int, id_above: int, id_upto: int
) -> tuple[str, Params]:
    events, params = events_sql(metric, Window(id_above=id_above, id_upto=id_upto))
    sql = (
        "INSERT INTO metering_usagerollup AS r "
        "(customer_id, metric_id, bucket, event_count, value_sum, value_max) "
        "SELECT s.customer_id, %s, date_trunc('day', s.ts, 'UTC'), count(*), sum(s.v), max(s.v) "
        f"FROM ({events}) s GROUP BY 1, 3 "
        "ON CONFLICT (customer_id, metric_id, bucket) DO UPDATE SET "
        "event_count = r.event_count + EXCLUDED.event_count, "
        "value_sum = r.value_sum + EXCLUDED.value_sum, "
        "value_max = GREATEST(r.value_max, EXCLUDED.value_max)"
    )
    return sql, [metric_id, *params]
