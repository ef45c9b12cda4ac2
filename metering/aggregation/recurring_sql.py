"""SQL of recurring unique_count metrics and of prorated usage (Lago's `recurring` metrics and
`prorated` charges).

A recurring unique_count reads each event's `operation_type` property: `add` (the default) makes
its value active from the event on, `remove` makes it inactive; removing a value that is not
active changes nothing, and adding it again after a removal makes it active again. The state of a
value at an instant is the operation of its latest event up to then (ordered by timestamp,
received_at, id).

- Units of a period: the values active at some time in `[start, end)`: active when the period
  starts, or added during it. A seat added on March 3 and removed on April 10 counts in March and
  April, not in May.
- Prorated units: each value counts for the days of the period it was active over the period's
  days. Days are UTC days from the period's start: day k is `[start + k days, start + (k+1)
  days)`. A value added on day a (or active before the period: day 0) and removed on day r (or
  never: the period's day count N) is active `r - a` days: the start day counts, the day of the
  removal does not. A seat added on day 10 of a 30-day month (index 9) and kept is 21/30 of a
  unit; one added on day 1 and removed on day 11 is 10/30.
- A prorated sum: what was there when the period started counts whole, and each event of the
  period counts for the days from its own (included) to the period's end: +10 GB on day 11 of
  30 is 10 × 20/30; a later -10 GB on day 21 takes back 10 × 10/30, leaving 10 GB × 10 days.

The builders here read the events: prorated usage (one customer's events of the metric before
the period's end, through the (customer_id, code, timestamp) index) and the active values when the
metric's rollup is not current; `rollup_distinct_sql.recurring_usage_sql` reads the active values
from the daily rollup, which keeps how each day left each value.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from metering.aggregation.core import (
    MetricDefinition,
    Params,
    Split,
    Window,
    events_sql,
    split_keys,
)

_ORDER = "s.ts, s.received_at, s.id"
_LATEST = "s.ts DESC, s.received_at DESC, s.id DESC"


def active_values_sql(
    metric: MetricDefinition, window: Window, split: Split | None = None
) -> tuple[str, Params]:
    """Rows like `usage_sql`'s: per customer (and bucket and group), the events of the period
    and the number of values active at some time in it.

    Two parts per (customer, value): the period's events, hash-aggregated (any add makes the
    value active), and the latest event before the period (its operation carries in), found
    with one sort of only the earlier events."""
    start = window.start
    period, period_params = events_sql(metric, window, split=split, with_operation=True)
    before, before_params = events_sql(
        metric, replace(window, start=None, end=start), split=split, with_operation=True
    )
    keys = split_keys(split)
    inner = split_keys(split, alias="u")
    outer = split_keys(split, alias="x")
    sql = (
        f"SELECT {outer}, sum(x.n)::bigint AS event_count, "
        "count(*) FILTER (WHERE x.active)::numeric AS quantity FROM ("
        f"SELECT {inner}, u.v, sum(u.n) AS n, bool_or(u.active) AS active FROM ("
        f"SELECT {keys}, s.v, count(*) AS n, bool_or(s.op = 'add') AS active "
        f"FROM ({period}) s GROUP BY {keys}, s.v "
        f"UNION ALL (SELECT DISTINCT ON ({keys}, s.v) {keys}, s.v, 0, s.op = 'add' "
        f"FROM ({before}) s ORDER BY {keys}, s.v, {_LATEST})"
        f") u GROUP BY {inner}, u.v) x GROUP BY {outer}"
    )
    return sql, [*period_params, *before_params]


def _named(sql: str, params: Params) -> tuple[str, dict[str, object]]:
    """Positional `%s` placeholders as named ones, so the rest of a statement can reuse names."""
    pieces = sql.split("%s")
    if len(pieces) != len(params) + 1:
        raise ValueError("The statement's placeholders do not match its parameters.")
    named = {f"p{i}": value for i, value in enumerate(params)}
    text = pieces[0] + "".join(f"%(p{i})s{piece}" for i, piece in enumerate(pieces[1:]))
    return text, named


def _day(expression: str) -> str:
    """The index of the period's day an instant falls in, clamped to [0, N] (N: the end)."""
    return (
        f"CASE WHEN {expression} >= %(end)s THEN %(days)s "
        f"WHEN {expression} < %(start)s THEN 0 "
        f"ELSE floor(extract(epoch FROM {expression} - %(start)s) / 86400)::int END"
    )


def prorated_values_sql(
    metric: MetricDefinition,
    *,
    customer_id: str,
    start: datetime,
    end: datetime,
    days: int,
    split: Split | None = None,
    subscription_id: str | None = None,
) -> tuple[str, dict[str, object]]:
    """A recurring unique_count's values with the days each was active in the period, as rows
    (customer_id[, f, g], value, events of the period, days active); values active on no day are
    left out. Named parameters (`%(name)s`)."""
    history, params = events_sql(
        metric,
        Window(end=end, customer_ids=[customer_id], subscription_id=subscription_id),
        split=split,
        with_operation=True,
    )
    keys = split_keys(split)
    outer = split_keys(split, alias="x")
    history, named = _named(history, params)
    sql = (
        f"SELECT {outer}, x.v, count(*) FILTER (WHERE x.ts >= %(start)s) AS n, "
        f"sum(CASE WHEN x.op = 'add' THEN {_day('x.until')} - {_day('x.ts')} ELSE 0 END) AS d "
        f"FROM (SELECT {keys}, s.v, s.ts, s.op, "
        f"lead(s.ts, 1, %(end)s) OVER (PARTITION BY {keys}, s.v ORDER BY {_ORDER}) AS until "
        f"FROM ({history}) s) x GROUP BY {outer}, x.v "
        f"HAVING sum(CASE WHEN x.op = 'add' THEN {_day('x.until')} - {_day('x.ts')} ELSE 0 END) "
        "> 0 OR count(*) FILTER (WHERE x.ts >= %(start)s) > 0 "
        f"ORDER BY {outer}, x.v"
    )
    return sql, {**named, "start": start, "end": end, "days": days}


def prorated_sum_sql(
    metric: MetricDefinition,
    *,
    customer_id: str,
    start: datetime,
    end: datetime,
    days: int,
    split: Split | None = None,
    subscription_id: str | None = None,
) -> tuple[str, dict[str, object]]:
    """A recurring sum by the day its events fall on, as rows (customer_id[, f, g], day, events,
    total): day -1 holds everything before the period (counted whole), days 0..N-1 the events of
    the period (each counted for N - day days). Named parameters (`%(name)s`)."""
    history, params = events_sql(
        metric,
        Window(end=end, customer_ids=[customer_id], subscription_id=subscription_id),
        split=split,
    )
    keys = split_keys(split)
    history, named = _named(history, params)
    day = (
        "CASE WHEN s.ts < %(start)s THEN -1 "
        "ELSE floor(extract(epoch FROM s.ts - %(start)s) / 86400)::int END"
    )
    sql = (
        f"SELECT {keys}, {day} AS day, count(*) FILTER (WHERE s.ts >= %(start)s) AS n, "
        f"sum(s.v) AS total FROM ({history}) s GROUP BY {keys}, day ORDER BY {keys}, day"
    )
    return sql, {**named, "start": start, "end": end, "days": days}
