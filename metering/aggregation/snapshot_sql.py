"""SQL of the monthly snapshots of recurring unique_count metrics (`UsageDistinctSnapshot`): the
state a period carries in, kept at every UTC month start so that a read never goes further back
than the start of its own month.

Invariant, for watermark W and the state's `snapshot_month` H: for every month start M <= H, the
snapshot rows (customer, M, value) hold the latest event of the value (by timestamp, received_at,
id) among the metric's events with `id <= W` and timestamp < M, removals included. Rows exist
only where such an event does, so months before a customer's first event have none, and the
invariant needs nothing stored for them.

It is kept by the rollup refresh, in the transaction that moves W:
- `fold_events_sql`: each chunk of events (ids in `(id_above, id_upto]`) is upserted into every
  snapshot month after its own, up to H, keeping the newer event per row. A late event (a high
  id, an old timestamp) so rewrites exactly the months it changes, and cannot override a newer
  removal or addition.
- `roll_forward_sql`: when a month starts (H moves to H'), snapshot H' is snapshot H merged with
  the daily rollup rows of `[H, H')` (each day's last event per value), newest per value.
- `fold_rollup_sql`: a metric whose rollup was built before its snapshots (H is NULL) gets them
  from its rollup rows, which hold each day's last event per value, with the same fan-out.

Month arithmetic runs on UTC wall-clock timestamps, whatever the session's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime

from metering.aggregation.core import MetricDefinition, Params, Window, events_sql

TABLE = "metering_usagedistinctsnapshot"
ROLLUP_TABLE = "metering_usagedistinctrollup"
_COLUMNS = "last_at, last_received_at, last_id, last_op"
_NEWER = (
    "(EXCLUDED.last_at, EXCLUDED.last_received_at, EXCLUDED.last_id) "
    "> (r.last_at, r.last_received_at, r.last_id)"
)
_KEEP_NEWER = "ON CONFLICT (customer_id, metric_id, month, value) DO UPDATE SET " + ", ".join(
    f"{column} = CASE WHEN {_NEWER} THEN EXCLUDED.{column} ELSE r.{column} END"
    for column in ("last_op", "last_id", "last_received_at", "last_at")
)
_LATEST = "s.ts DESC, s.received_at DESC, s.id DESC"


def month_floor(value: datetime) -> datetime:
    """The start of the UTC month `value` falls in."""
    return value.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_next(value: datetime) -> datetime:
    """The start of the UTC month after the one `value` falls in."""
    floor = month_floor(value)
    return (
        floor.replace(year=floor.year + 1, month=1)
        if floor.month == 12
        else (floor.replace(month=floor.month + 1))
    )


def _fan_out_sql(source: str) -> str:
    """Rows (customer_id, ts, received_at, id, v, op) of `source` upserted into every snapshot
    month after their own up to the `%s` bound: first the latest per (customer, value, month of
    the event), then the latest per (customer, value, snapshot month), since one statement
    cannot upsert a row twice. Parameters: the metric id, the source's, the last month."""
    last = ", ".join(
        f"(array_agg(s.{column} ORDER BY {_LATEST}))[1] AS {column}"
        for column in ("ts", "received_at", "id", "op")
    )
    return (
        f"INSERT INTO {TABLE} AS r (customer_id, metric_id, month, value, {_COLUMNS}) "
        "SELECT DISTINCT ON (g.customer_id, m.month, g.v) g.customer_id, %s, m.month, g.v, "
        "g.ts, g.received_at, g.id, g.op FROM ("
        f"SELECT s.customer_id, s.v, date_trunc('month', s.ts AT TIME ZONE 'UTC') AS m0, {last} "
        f"FROM ({source}) s GROUP BY 1, 2, 3) g "
        "CROSS JOIN LATERAL (SELECT gs AT TIME ZONE 'UTC' AS month FROM generate_series("
        "g.m0 + interval '1 month', %s::timestamptz AT TIME ZONE 'UTC', interval '1 month') gs"
        ") m ORDER BY g.customer_id, m.month, g.v, g.ts DESC, g.received_at DESC, g.id DESC "
        f"{_KEEP_NEWER}"
    )


def fold_events_sql(
    metric: MetricDefinition, *, metric_id: int, id_above: int, id_upto: int, through: datetime
) -> tuple[str, Params]:
    """Upserts the metric's events with ids in `(id_above, id_upto]` into the snapshots of the
    months after each event's, up to `through` (the state's snapshot month)."""
    events, params = events_sql(
        metric, Window(id_above=id_above, id_upto=id_upto), with_operation=True
    )
    return _fan_out_sql(events), [metric_id, *params, through]


def fold_rollup_sql(*, metric_id: int, through: datetime) -> tuple[str, Params]:
    """Builds the snapshots of every month up to `through` from the metric's daily rollup rows
    (each day's last event per value), for a rollup built before its snapshots."""
    source = (
        "SELECT r.customer_id, r.last_at AS ts, r.last_received_at AS received_at, "
        f"r.last_id AS id, r.value AS v, r.last_op AS op FROM {ROLLUP_TABLE} r "
        "WHERE r.metric_id = %s"
    )
    return _fan_out_sql(source), [metric_id, metric_id, through]


def roll_forward_sql(*, metric_id: int, month: datetime, previous: datetime) -> tuple[str, Params]:
    """Builds the snapshot of `month` from that of `previous` (an earlier month start) and the
    daily rollup rows of `[previous, month)`, keeping the latest event per (customer, value)."""
    sql = (
        f"INSERT INTO {TABLE} AS r (customer_id, metric_id, month, value, {_COLUMNS}) "
        f"SELECT DISTINCT ON (x.customer_id, x.value) x.customer_id, %s, %s, x.value, {_COLUMNS} "
        f"FROM (SELECT customer_id, value, {_COLUMNS} FROM {TABLE} "
        "WHERE metric_id = %s AND month = %s "
        f"UNION ALL SELECT customer_id, value, {_COLUMNS} FROM {ROLLUP_TABLE} "
        "WHERE metric_id = %s AND bucket >= %s AND bucket < %s) x "
        "ORDER BY x.customer_id, x.value, x.last_at DESC, x.last_received_at DESC, "
        f"x.last_id DESC {_KEEP_NEWER}"
    )
    return sql, [metric_id, month, metric_id, previous, metric_id, previous, month]
