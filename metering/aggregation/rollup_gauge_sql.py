"""SQL of the daily rollup of weighted_sum metrics (gauges): per customer and UTC day with events,
the day's own integral from its first event to midnight, its first event's time and its last
value (`UsageGaugeRollup`).

Reading a period `[start, end)` rebuilds the gauge's step function from points, exactly as the
raw query (`core._weighted_sum_sql`) does, so the result is the same number:
- the value carried in at `start`: the latest event of the partial day before `start` if any,
  else the last value of the customer's latest rollup day before it (ord 0);
- the events of the partial days at the edges (`id <= W`; ord 2);
- per whole day with events: a point at its first event with value 0 that adds the day's `area`
  and `event_count` (ord 2), so whatever held before stops there; and a point at the next
  midnight with the day's last value, which holds until the next point (ord 1: before an edge
  event or a day's first event at that same instant).
Each point holds until the next one of its customer (or `end`); Σ value × seconds + Σ area is the
raw query's Σ value × seconds split at midnights, an exact numeric sum.

A customer with a contributing event above W and before `end` (late, or new since the refresh)
may have changed any of those days or the carried-in value: the statement lists such customers
with the event count `LATE` (-1) instead of a result, and the caller reads them from the events
(`usage_sql` for the listed customers: a few index probes each).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from metering.aggregation.core import (
    MetricDefinition,
    Params,
    Window,
    day_floor,
    events_sql,
)
from metering.aggregation.rollup_common import (
    DAY,
    edge_window,
    period_split,
    stale_marker_sql,
    state_current_sql,
)

TABLE = "metering_usagegaugerollup"
# The event count of a row naming a customer to read from the events instead.
LATE = -1
_ORDER_DESC = "c.ts DESC, c.received_at DESC, c.id DESC"


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
    """Rows (customer_id, event_count, quantity) equal to `usage_sql`'s, from the gauge rollup
    of watermark W, and (customer_id, LATE, NULL) for the customers to read from the events (see
    the module's docstring)."""
    current, current_params = state_current_sql(
        metric_id=metric_id, watermark=watermark, definition_hash=definition_hash
    )
    listed: Params = [] if customer_ids is None else [list(customer_ids)]
    only_listed = "" if customer_ids is None else " AND r.customer_id = ANY(%s)"
    whole, edges = period_split(start, end)
    floor_start = day_floor(start)

    late_events, late_params = events_sql(
        metric, Window(end=end, customer_ids=customer_ids, id_above=watermark)
    )
    late_sql = f"SELECT DISTINCT s.customer_id FROM ({late_events}) s"

    # The value carried in at `start`: candidates ordered like events (a rollup day sorts before
    # any event of the partial day, which comes after it).
    if customer_ids is None:
        day_sql = (
            "SELECT DISTINCT ON (r.customer_id) r.customer_id, r.bucket AS ts, "
            "NULL::timestamptz AS received_at, 0::bigint AS id, r.last_value AS v "
            f"FROM {TABLE} r WHERE r.metric_id = %s AND r.bucket < %s "
            "ORDER BY r.customer_id, r.bucket DESC"
        )
        day_params: Params = [metric_id, floor_start]
    else:
        # One backward probe of the primary key per listed customer.
        day_sql = (
            "SELECT l.customer_id, l.bucket AS ts, NULL::timestamptz AS received_at, "
            "0::bigint AS id, l.last_value AS v FROM unnest(%s::text[]) AS c(customer_id) "
            "CROSS JOIN LATERAL (SELECT r.customer_id, r.bucket, r.last_value "
            f"FROM {TABLE} r WHERE r.customer_id = c.customer_id AND r.metric_id = %s "
            "AND r.bucket < %s ORDER BY r.bucket DESC LIMIT 1) l"
        )
        day_params = [*listed, metric_id, floor_start]
    candidates = [day_sql]
    carried_params: Params = [*day_params]
    if floor_start < start:
        before_edge, before_params = events_sql(
            metric,
            edge_window(
                table=TABLE,
                metric_id=metric_id,
                start=floor_start,
                end=start,
                watermark=watermark,
                customer_ids=customer_ids,
            ),
        )
        candidates.append(
            f"SELECT s.customer_id, s.ts, s.received_at, s.id, s.v FROM ({before_edge}) s"
        )
        carried_params += before_params
    union = " UNION ALL ".join(f"({part})" for part in candidates)
    carried_sql = (
        "SELECT DISTINCT ON (c.customer_id) c.customer_id, c.v "
        f"FROM ({union}) c ORDER BY c.customer_id, {_ORDER_DESC}"
    )

    # Points (customer_id, ts, ord, received_at, id, v, a, n): a is an area added as is, n the
    # events counted.
    points = [
        "SELECT customer_id, %s::timestamptz AS ts, 0 AS ord, NULL::timestamptz AS received_at, "
        "0::bigint AS id, v, 0::numeric AS a, 0::bigint AS n FROM g_carried"
    ]
    points_params: Params = [start]
    for edge_start, edge_end in edges:
        window = edge_window(
            table=TABLE,
            metric_id=metric_id,
            start=edge_start,
            end=edge_end,
            watermark=watermark,
            customer_ids=customer_ids,
        )
        events, events_params = events_sql(metric, window)
        points.append(
            f"SELECT s.customer_id, s.ts, 2, s.received_at, s.id, s.v, 0, 1 FROM ({events}) s"
        )
        points_params += events_params
    if whole is not None:
        days = f"FROM {TABLE} r WHERE r.metric_id = %s AND r.bucket >= %s AND r.bucket < %s"
        points += [
            "SELECT r.customer_id, r.first_at, 2, NULL, 0, 0::numeric, r.area, r.event_count "
            f"{days}{only_listed}",
            f"SELECT r.customer_id, r.bucket + {DAY}, 1, NULL, 0, r.last_value, 0, 0 "
            f"{days}{only_listed}",
        ]
        points_params += [metric_id, *whole, *listed] * 2

    sql = (
        f"WITH g_late AS ({late_sql}), g_carried AS ({carried_sql}), "
        f"g_points AS ({' UNION ALL '.join(points)}), "
        "g_spans AS (SELECT customer_id, v, a, n, ts, lead(ts, 1, %s::timestamptz) OVER "
        "(PARTITION BY customer_id ORDER BY ts, ord, received_at, id) AS until FROM g_points) "
        "SELECT g.customer_id, sum(g.n)::bigint AS event_count, "
        "trim_scale(round(round(sum(g.v * extract(epoch FROM g.until - g.ts) + g.a), 20) "
        "/ extract(epoch FROM %s::timestamptz - %s::timestamptz), 20)) AS quantity "
        "FROM g_spans g WHERE NOT EXISTS "
        "(SELECT 1 FROM g_late l WHERE l.customer_id = g.customer_id) GROUP BY g.customer_id "
        f"UNION ALL SELECT l.customer_id, {LATE}, NULL FROM g_late l "
        f"UNION ALL {stale_marker_sql(current)}"
    )
    params = [
        *late_params,
        *carried_params,
        *points_params,
        end,
        end,
        start,
        *current_params,
    ]
    return sql, params


def refresh_sql(
    metric: MetricDefinition, *, metric_id: int, id_above: int, id_upto: int
) -> tuple[str, Params]:
    """Recomputes, from all their events with `id <= id_upto`, the days (customer, UTC day) that
    the metric's events with ids in `(id_above, id_upto]` fall on (a late event changes the spans
    of its whole day). A first build (`id_above` 0) reads the events once, without the per-day
    lookups."""
    if id_above == 0:
        events, params = events_sql(metric, Window(id_upto=id_upto))
        source = f"SELECT s.*, date_trunc('day', s.ts, 'UTC') AS bucket FROM ({events}) s"
    else:
        touched, touched_params = events_sql(metric, Window(id_above=id_above, id_upto=id_upto))
        events, events_params = events_sql(
            metric,
            Window(
                id_upto=id_upto,
                customer_sql=(
                    "e.customer_id = t.customer_id AND e.timestamp >= t.bucket "
                    f"AND e.timestamp < t.bucket + {DAY}"
                ),
            ),
        )
        source = (
            "SELECT s.*, t.bucket FROM (SELECT DISTINCT s.customer_id, "
            f"date_trunc('day', s.ts, 'UTC') AS bucket FROM ({touched}) s) t "
            f"CROSS JOIN LATERAL ({events}) s"
        )
        params = [*touched_params, *events_params]
    sql = (
        f"INSERT INTO {TABLE} AS r "
        "(customer_id, metric_id, bucket, event_count, first_at, area, last_value) "
        "SELECT d.customer_id, %s, d.bucket, count(*), min(d.ts), "
        "sum(d.v * extract(epoch FROM d.until - d.ts)), "
        "(array_agg(d.v ORDER BY d.ts DESC, d.received_at DESC, d.id DESC))[1] "
        f"FROM (SELECT x.*, lead(x.ts, 1, x.bucket + {DAY}) OVER "
        "(PARTITION BY x.customer_id, x.bucket ORDER BY x.ts, x.received_at, x.id) AS until "
        f"FROM ({source}) x) d GROUP BY d.customer_id, d.bucket "
        "ON CONFLICT (customer_id, metric_id, bucket) DO UPDATE SET "
        "event_count = EXCLUDED.event_count, first_at = EXCLUDED.first_at, "
        "area = EXCLUDED.area, last_value = EXCLUDED.last_value"
    )
    return sql, [metric_id, *params]
