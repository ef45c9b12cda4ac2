"""SQL of the daily rollup of unique_count metrics: per customer and UTC day, the distinct values
of the property and how many contributing events carried each (`UsageDistinctRollup`); for a
recurring metric also whether the day added each value and the day's last event of it, so that
a period's carried-in state is read from the rollup (see `recurring_sql` for the rules)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from metering.aggregation.core import (
    MetricDefinition,
    Params,
    Window,
    day_floor,
    events_sql,
    is_recurring,
)
from metering.aggregation.rollup_common import (
    edge_window,
    period_split,
    raw_event_parts,
    stale_marker_sql,
    state_current_sql,
)
from metering.aggregation.snapshot_sql import TABLE as SNAPSHOT_TABLE
from metering.aggregation.snapshot_sql import month_floor

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
    if is_recurring(metric):
        return _recurring_refresh_sql(
            metric, metric_id=metric_id, id_above=id_above, id_upto=id_upto
        )
    events, params = events_sql(metric, Window(id_above=id_above, id_upto=id_upto))
    sql = (
        f"INSERT INTO {TABLE} AS r (customer_id, metric_id, bucket, value, event_count) "
        "SELECT s.customer_id, %s, date_trunc('day', s.ts, 'UTC'), s.v, count(*) "
        f"FROM ({events}) s GROUP BY 1, 3, 4 "
        "ON CONFLICT (customer_id, metric_id, bucket, value) DO UPDATE SET "
        "event_count = r.event_count + EXCLUDED.event_count"
    )
    return sql, [metric_id, *params]


_LAST = "ORDER BY s.ts DESC, s.received_at DESC, s.id DESC"
_NEWER = (
    "(EXCLUDED.last_at, EXCLUDED.last_received_at, EXCLUDED.last_id) "
    "> (r.last_at, r.last_received_at, r.last_id)"
)


def _recurring_refresh_sql(
    metric: MetricDefinition, *, metric_id: int, id_above: int, id_upto: int
) -> tuple[str, Params]:
    """As `refresh_sql`, also keeping per (customer, day, value) whether an event added it and the
    day's last event; a later chunk's events replace the last event only when newer (late events
    arrive with higher ids but earlier timestamps)."""
    events, params = events_sql(
        metric, Window(id_above=id_above, id_upto=id_upto), with_operation=True
    )
    last = ", ".join(
        f"(array_agg(s.{column} {_LAST}))[1]" for column in ("ts", "received_at", "id", "op")
    )
    keep = ", ".join(
        f"{column} = CASE WHEN {_NEWER} THEN EXCLUDED.{column} ELSE r.{column} END"
        for column in ("last_op", "last_id", "last_received_at", "last_at")
    )
    sql = (
        f"INSERT INTO {TABLE} AS r (customer_id, metric_id, bucket, value, event_count, added, "
        "last_at, last_received_at, last_id, last_op) "
        "SELECT s.customer_id, %s, date_trunc('day', s.ts, 'UTC'), s.v, count(*), "
        f"bool_or(s.op = 'add'), {last} FROM ({events}) s GROUP BY 1, 3, 4 "
        "ON CONFLICT (customer_id, metric_id, bucket, value) DO UPDATE SET "
        "event_count = r.event_count + EXCLUDED.event_count, added = r.added OR EXCLUDED.added, "
        f"{keep}"
    )
    return sql, [metric_id, *params]


def recurring_usage_sql(
    metric: MetricDefinition,
    *,
    metric_id: int,
    definition_hash: str,
    watermark: int,
    start: datetime,
    end: datetime,
    customer_ids: Sequence[str] | None,
    snapshot_month: datetime | None = None,
) -> tuple[str, Params]:
    """`recurring_sql.active_values_sql` read from the rollup of watermark W: the period's values
    come from the rollup rows of its whole days, the events (`id <= W`) of its partial edge days
    and its events above W; the state carried in is the latest of: the monthly snapshot of M,
    the start's month (or the state's `snapshot_month` when earlier), the rollup rows' last
    events of the days from M to the start's day, the events (`id <= W`) of that day before the
    start, and the events above W before the start. Without snapshots (`snapshot_month` None),
    the rollup rows of every day before the start's stand in for the snapshot. Same
    stale-watermark answer as `rollup_usage_sql`."""
    current, current_params = state_current_sql(
        metric_id=metric_id, watermark=watermark, definition_hash=definition_hash
    )
    listed: Params = [] if customer_ids is None else [list(customer_ids)]
    only_listed = "" if customer_ids is None else " AND r.customer_id = ANY(%s)"
    whole, edges = period_split(start, end)
    rollup_row = (
        "SELECT r.customer_id, r.value AS v, {n} AS n, {added} AS added, r.last_at AS at, "
        "r.last_received_at AS received_at, r.last_id AS id, r.last_op AS op, {inside} AS inside "
        f"FROM {TABLE} r WHERE r.metric_id = %s AND {{bucket}}{only_listed}"
    )
    event_row = (
        "SELECT s.customer_id, s.v, {n}, s.op = 'add', s.ts, s.received_at, s.id, s.op, "
        "{inside} FROM ({events}) s"
    )
    parts: list[str] = []
    params: Params = []
    if whole is not None:
        parts.append(
            rollup_row.format(
                n="r.event_count", added="r.added", inside="true", bucket="r.bucket >= %s"
            )
            + " AND r.bucket < %s"
        )
        params += [metric_id, whole[0], *listed, whole[1]]
    if snapshot_month is None:
        parts.append(
            rollup_row.format(n="0", added="false", inside="false", bucket="r.bucket < %s")
        )
        params += [metric_id, day_floor(start), *listed]
    else:
        month = min(month_floor(start), snapshot_month)
        parts.append(
            "SELECT r.customer_id, r.value, 0, false, r.last_at, r.last_received_at, r.last_id, "
            f"r.last_op, false FROM {SNAPSHOT_TABLE} r WHERE r.metric_id = %s AND r.month = %s"
            f"{only_listed}"
        )
        params += [metric_id, month, *listed]
        if month < day_floor(start):
            parts.append(
                rollup_row.format(n="0", added="false", inside="false", bucket="r.bucket >= %s")
                + " AND r.bucket < %s"
            )
            params += [metric_id, month, *listed, day_floor(start)]
    windows = [
        (edge_window(**_edge(metric_id, a, b, watermark, customer_ids)), True) for a, b in edges
    ]
    if day_floor(start) < start:
        windows.append(
            (
                edge_window(**_edge(metric_id, day_floor(start), start, watermark, customer_ids)),
                False,
            )
        )
    windows += [
        (Window(start=start, end=end, customer_ids=customer_ids, id_above=watermark), True),
        (Window(before=start, customer_ids=customer_ids, id_above=watermark), False),
    ]
    for window, inside in windows:
        events, events_params = events_sql(metric, window, with_operation=True)
        parts.append(
            event_row.format(n="1" if inside else "0", inside=str(inside).lower(), events=events)
        )
        params += events_params
    sql = (
        f"WITH parts AS ({' UNION ALL '.join(parts)}) "
        "SELECT c.customer_id, sum(c.n)::bigint AS event_count, "
        "count(*) FILTER (WHERE c.active)::numeric AS quantity FROM ("
        "SELECT u.customer_id, u.v, sum(u.n) AS n, bool_or(u.active) AS active FROM ("
        "SELECT p.customer_id, p.v, p.n, p.added AS active FROM parts p WHERE p.inside "
        "UNION ALL (SELECT DISTINCT ON (p.customer_id, p.v) p.customer_id, p.v, 0, "
        "p.op = 'add' FROM parts p WHERE NOT p.inside "
        "ORDER BY p.customer_id, p.v, p.at DESC, p.received_at DESC, p.id DESC)"
        ") u GROUP BY u.customer_id, u.v) c GROUP BY c.customer_id "
        f"UNION ALL {stale_marker_sql(current)}"
    )
    return sql, [*params, *current_params]


def _edge(
    metric_id: int,
    start: datetime,
    end: datetime,
    watermark: int,
    customer_ids: Sequence[str] | None,
) -> dict[str, object]:
    return {
        "table": TABLE,
        "metric_id": metric_id,
        "start": start,
        "end": end,
        "watermark": watermark,
        "customer_ids": customer_ids,
    }
