"""SQL of the daily usage rollups of count, sum and max metrics (see `metering/rollups.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from metering.aggregation.core import (
    COUNT,
    MAX,
    SUM,
    MetricDefinition,
    Params,
    Window,
    day_ceil,
    day_floor,
    events_sql,
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
) -> tuple[str, Params]:
    """`usage_sql` for count/sum/max read from the daily rollups, exactly equal to it, as rows
    (customer_id, event_count, quantity).

    The rollup of watermark W holds every contributing event with `id <= W`, by UTC day. The
    result adds: the rollup rows of the whole days inside the period; the events with `id <= W`
    in the partial days at its edges (for all customers: those of the customers with a rollup
    row on those days, which any such event put there); and every event of the period above W
    (late, or new since the last refresh), which the planner reads by primary-key range when W
    is recent.

    The statement reads the rollup state in its own snapshot: when the state no longer has
    watermark W and this definition (a refresh committed since W was read), it returns one row
    with a NULL customer_id instead, and the caller reads W again.
    """
    current = (
        "EXISTS (SELECT 1 FROM metering_usagerollupstate st "
        "WHERE st.metric_id = %s AND st.watermark = %s AND st.definition_hash = %s)"
    )
    current_params: Params = [metric_id, watermark, definition_hash]
    listed: Params = [] if customer_ids is None else [list(customer_ids)]
    only_listed = "" if customer_ids is None else " AND r.customer_id = ANY(%s)"
    inner_start, inner_end = day_ceil(start), day_floor(end)
    parts: list[str] = []
    params: Params = []
    if inner_start < inner_end:
        parts.append(
            "SELECT r.customer_id, r.event_count AS n, r.value_sum AS s, r.value_max AS m "
            f"FROM metering_usagerollup r WHERE {current} AND r.metric_id = %s "
            f"AND r.bucket >= %s AND r.bucket < %s{only_listed}"
        )
        params += [*current_params, metric_id, inner_start, inner_end, *listed]
        edges = [(a, b) for a, b in ((start, inner_start), (inner_end, end)) if a < b]
    else:
        edges = [(start, end)]
    for edge_start, edge_end in edges:
        if customer_ids is None:
            window = Window(
                start=edge_start,
                end=edge_end,
                customer_sql=(
                    "e.customer_id IN (SELECT r.customer_id FROM metering_usagerollup r "
                    "WHERE r.metric_id = %s AND r.bucket >= %s AND r.bucket < %s)"
                ),
                customer_sql_params=(metric_id, day_floor(edge_start), edge_end),
                id_upto=watermark,
            )
        else:
            window = Window(
                start=edge_start, end=edge_end, customer_ids=customer_ids, id_upto=watermark
            )
        events, events_params = events_sql(metric, window)
        parts.append(_ROW.format(events=events))
        params += events_params
    events, events_params = events_sql(
        metric, Window(start=start, end=end, customer_ids=customer_ids, id_above=watermark)
    )
    parts.append(_ROW.format(events=events))
    params += events_params
    sql = (
        "SELECT x.customer_id, sum(x.n)::bigint AS event_count, "
        f"{_QUANTITY[metric.aggregation]} AS quantity "
        f"FROM ({' UNION ALL '.join(parts)}) x GROUP BY x.customer_id "
        f"UNION ALL SELECT NULL, 0, NULL WHERE NOT {current}"
    )
    return sql, [*params, *current_params]


def rollup_refresh_sql(
    metric: MetricDefinition, *, metric_id: int, id_above: int, id_upto: int
) -> tuple[str, Params]:
    """Adds the metric's contributing events with ids in `(id_above, id_upto]` to its daily
    rollup rows (UTC days)."""
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
