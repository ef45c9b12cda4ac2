"""The raw-event SQL of every aggregation, the period result and its rounding (see the
contract in `metering.aggregation`)."""

from __future__ import annotations

import decimal
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

Params = list[Any]

COUNT, SUM, MAX, LAST, UNIQUE_COUNT, WEIGHTED_SUM = (
    "count",
    "sum",
    "max",
    "last",
    "unique_count",
    "weighted_sum",
)
NUMERIC_AGGREGATIONS = frozenset({SUM, MAX, LAST, WEIGHTED_SUM})
# Aggregations whose period result is a combination of daily partial results (daily totals for
# count/sum/max, distinct values per day for unique_count, a gauge's day for weighted_sum).
ROLLUP_AGGREGATIONS = frozenset({COUNT, SUM, MAX, UNIQUE_COUNT, WEIGHTED_SUM})
MEMBER_FIELD = "member_id"

# A finite decimal in the forms PostgreSQL's numeric input accepts (no NaN/Infinity); exponents
# are kept to 3 digits so a freak value cannot overflow numeric and fail a billing run.
_NUMBER_RE = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d{1,3})?\s*$"
_ROUNDING_MODES = {
    "round": decimal.ROUND_HALF_UP,
    "ceil": decimal.ROUND_CEILING,
    "floor": decimal.ROUND_FLOOR,
}


@dataclass(frozen=True)
class UsageResult:
    quantity: Decimal
    event_count: int


ZERO_USAGE = UsageResult(quantity=Decimal(0), event_count=0)


class MetricDefinition(Protocol):
    """What aggregation reads of a `BillableMetric`."""

    code: str
    aggregation: str
    field_name: str
    filters: Any
    weights: Any
    rounding: str
    rounding_precision: int


def round_quantity(value: Decimal, rounding: str, precision: int) -> Decimal:
    """The period result rounded once: `round` half up, `ceil` up, `floor` down, to `precision`
    decimal places; `none` returns the value unchanged."""
    mode = _ROUNDING_MODES.get(rounding)
    if mode is None:
        return value
    context = decimal.Context(prec=max(28, value.adjusted() + precision + 2))
    return value.quantize(Decimal(1).scaleb(-precision), rounding=mode, context=context)


def usage_result(
    metric: MetricDefinition, quantity: Decimal | None, event_count: int
) -> UsageResult:
    """A row of SQL output as the metric's rounded result."""
    value = Decimal(0) if quantity is None else quantity
    return UsageResult(
        quantity=round_quantity(value, metric.rounding, metric.rounding_precision),
        event_count=int(event_count),
    )


def metric_definition_hash(metric: MetricDefinition) -> str:
    """Identifies what a rollup was built for: anything that changes which events count or what
    they add (rounding is applied later and is not part of it)."""
    definition = {
        "code": metric.code,
        "aggregation": metric.aggregation,
        "field_name": metric.field_name,
        "filters": _filter_pairs(metric.filters),
        "weights": _weights(metric),
    }
    return hashlib.sha256(json.dumps(definition, sort_keys=True, default=str).encode()).hexdigest()


def day_floor(value: datetime) -> datetime:
    value = value.astimezone(UTC)
    return value.replace(hour=0, minute=0, second=0, microsecond=0)


def day_ceil(value: datetime) -> datetime:
    floor = day_floor(value)
    return floor if floor == value else floor + timedelta(days=1)


def _json_text(value: object) -> str:
    """How PostgreSQL's `->>` prints a JSON scalar."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _filter_pairs(filters: Any) -> list[tuple[str, list[str]]]:
    return [
        (str(key), sorted({_json_text(v) for v in values}))
        for key, values in sorted((filters or {}).items())
    ]


def _weights(metric: MetricDefinition) -> tuple[str, str, Decimal] | None:
    """(property, {value: weight} as JSON text, default) of a weighted sum, else None."""
    weights = metric.weights
    if metric.aggregation != SUM or not weights:
        return None
    mapping = {
        str(key): str(Decimal(str(weight)))
        for key, weight in (weights.get("values") or {}).items()
        if not isinstance(weight, bool)
    }
    default = weights.get("default", 1)
    default = Decimal(1) if isinstance(default, bool) or default is None else Decimal(str(default))
    return str(weights["property"]), json.dumps(mapping, sort_keys=True), default


@dataclass(frozen=True)
class Window:
    """Conditions on the events read, beyond the metric's own: time, customers, subscription,
    event ids. `customer_sql` is a raw SQL condition on `e.customer_id` (e.g. a lateral join)."""

    start: datetime | None = None
    end: datetime | None = None
    before: datetime | None = None
    customer_ids: Sequence[str] | None = None
    customer_sql: str | None = None
    customer_sql_params: tuple[Any, ...] = ()
    subscription_id: str | None = None
    id_above: int | None = None
    id_upto: int | None = None


def events_sql(metric: MetricDefinition, window: Window) -> tuple[str, Params]:
    """The metric's contributing events in `window`, as rows (customer_id, ts, received_at, id, v)
    where `v` is what the event adds: 1 for count, the (weighted) numeric value, or the text value
    for unique_count."""
    aggregation = metric.aggregation
    field = metric.field_name
    if field == MEMBER_FIELD:
        text_sql = "coalesce(nullif(e.member_id, ''), e.properties ->> %s)"
    else:
        text_sql = "(e.properties ->> %s)"

    select_params: Params = []
    where = ["e.code = %s"]
    where_params: Params = [metric.code]
    if aggregation == COUNT:
        value_sql = "1::numeric"
    elif aggregation == UNIQUE_COUNT:
        value_sql = text_sql
        select_params.append(field)
        where.append(f"{text_sql} IS NOT NULL")
        where_params.append(field)
    else:
        value_sql = f"({text_sql})::numeric"
        select_params.append(field)
        weights = _weights(metric)
        if weights is not None:
            weight_property, mapping, default = weights
            value_sql += " * coalesce((%s::jsonb ->> (e.properties ->> %s))::numeric, %s)"
            select_params += [mapping, weight_property, default]
        # The cast in the select list runs only on rows that passed this test.
        where.append(f"{text_sql} ~ '{_NUMBER_RE}'")
        where_params.append(field)

    for key, values in _filter_pairs(metric.filters):
        where.append("(e.properties ->> %s) = ANY(%s)")
        where_params += [key, values]
    if window.customer_ids is not None:
        where.append("e.customer_id = ANY(%s)")
        where_params.append(list(window.customer_ids))
    if window.customer_sql is not None:
        where.append(window.customer_sql)
        where_params += list(window.customer_sql_params)
    if window.subscription_id is not None:
        where.append("e.subscription_id = %s")
        where_params.append(window.subscription_id)
    for condition, value in (
        ("e.timestamp >= %s", window.start),
        ("e.timestamp < %s", window.end),
        ("e.timestamp < %s", window.before),
        ("e.id > %s", window.id_above),
        ("e.id <= %s", window.id_upto),
    ):
        if value is not None:
            where.append(condition)
            where_params.append(value)

    sql = (
        f"SELECT e.customer_id, e.timestamp AS ts, e.received_at, e.id, {value_sql} AS v "
        f"FROM metering_event e WHERE {' AND '.join(where)}"
    )
    return sql, select_params + where_params


_LAST_ORDER = "s.ts DESC, s.received_at DESC, s.id DESC"
_QUANTITY_SQL = {
    COUNT: "count(*)::numeric",
    SUM: "sum(s.v)",
    MAX: "max(s.v)",
    LAST: f"(array_agg(s.v ORDER BY {_LAST_ORDER}))[1]",
    UNIQUE_COUNT: "count(DISTINCT s.v)::numeric",
}


def usage_sql(
    metric: MetricDefinition,
    *,
    start: datetime,
    end: datetime,
    customer_ids: Sequence[str] | None = None,
    subscription_id: str | None = None,
) -> tuple[str, Params]:
    """The metric's usage over `[start, end)` straight from the events, one row
    (customer_id, event_count, quantity) per customer with usage (all customers, or the listed
    ones). Quantities are unrounded."""
    window = Window(
        start=start, end=end, customer_ids=customer_ids, subscription_id=subscription_id
    )
    if metric.aggregation == WEIGHTED_SUM:
        return _weighted_sum_sql(metric, window)
    events, params = events_sql(metric, window)
    sql = (
        f"SELECT s.customer_id, count(*) AS event_count, "
        f"{_QUANTITY_SQL[metric.aggregation]} AS quantity "
        f"FROM ({events}) s GROUP BY s.customer_id"
    )
    return sql, params


def _weighted_sum_sql(metric: MetricDefinition, window: Window) -> tuple[str, Params]:
    start, end = window.start, window.end
    period_sql, period_params = events_sql(metric, window)
    before = Window(before=start, subscription_id=window.subscription_id)
    if window.customer_ids is not None:
        # One backward index probe per listed customer for its latest value before the period.
        before_sql, before_params = events_sql(
            metric, replace(before, customer_sql="e.customer_id = c.customer_id")
        )
        carried_sql = (
            "SELECT c.customer_id, l.v FROM unnest(%s::text[]) AS c(customer_id) "
            f"CROSS JOIN LATERAL (SELECT s.v FROM ({before_sql}) s "
            f"ORDER BY {_LAST_ORDER} LIMIT 1) l"
        )
        carried_params = [list(window.customer_ids), *before_params]
    else:
        before_sql, carried_params = events_sql(metric, before)
        carried_sql = (
            f"SELECT DISTINCT ON (s.customer_id) s.customer_id, s.v FROM ({before_sql}) s "
            f"ORDER BY s.customer_id, {_LAST_ORDER}"
        )
    sql = (
        f"WITH carried AS ({carried_sql}), "
        "points AS ("
        "SELECT customer_id, %s::timestamptz AS ts, 0 AS ord, NULL::timestamptz AS received_at, "
        "0::bigint AS id, v FROM carried "
        f"UNION ALL SELECT customer_id, ts, 1, received_at, id, v FROM ({period_sql}) p), "
        "spans AS (SELECT customer_id, ord, v, ts, lead(ts, 1, %s::timestamptz) OVER "
        "(PARTITION BY customer_id ORDER BY ts, ord, received_at, id) AS until FROM points) "
        "SELECT customer_id, count(*) FILTER (WHERE ord = 1) AS event_count, "
        "trim_scale(round(round(sum(v * extract(epoch FROM until - ts)), 20) "
        "/ extract(epoch FROM %s::timestamptz - %s::timestamptz), 20)) AS quantity "
        "FROM spans GROUP BY customer_id"
    )
    return sql, [*carried_params, start, *period_params, end, end, start]


def event_values_sql(
    metric: MetricDefinition,
    *,
    customer_id: str,
    start: datetime,
    end: datetime,
    subscription_id: str | None = None,
) -> tuple[str, Params]:
    """What each event of the period adds, in time order (timestamp, received_at, id): 1 for
    count, the (weighted) value for numeric aggregations, and for unique_count 1 where the event
    brings a value not seen earlier in the period, else 0 (so the values add up to the count)."""
    window = Window(
        start=start, end=end, customer_ids=[customer_id], subscription_id=subscription_id
    )
    events, params = events_sql(metric, window)
    value = "s.v"
    if metric.aggregation == UNIQUE_COUNT:
        value = (
            "CASE WHEN row_number() OVER (PARTITION BY s.v ORDER BY s.ts, s.received_at, s.id)"
            " = 1 THEN 1::numeric ELSE 0::numeric END"
        )
    return f"SELECT {value} FROM ({events}) s ORDER BY s.ts, s.received_at, s.id", params
