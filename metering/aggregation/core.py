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
# Lago's event property telling a recurring unique_count whether the value is added (default)
# or removed.
OPERATION_PROPERTY = "operation_type"
LEVEL, CHANGE = "level", "change"
# The lower bound of a recurring metric's reads: before any event the store can hold.
RECURRING_START = datetime(1970, 1, 1, tzinfo=UTC)
# Lago's filter value meaning "any value of this key".
ANY_VALUE = "__ALL_FILTER_VALUES__"

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


def is_recurring(metric: MetricDefinition) -> bool:
    return bool(getattr(metric, "recurring", False))


def weighted_sum_mode(metric: MetricDefinition) -> str:
    return getattr(metric, "weighted_sum_mode", LEVEL) or LEVEL


def reads_rollup(metric: MetricDefinition) -> bool:
    """Whether the daily rollups answer the metric: not for `last` or a gauge of changes (read
    from the events)."""
    if metric.aggregation not in ROLLUP_AGGREGATIONS:
        return False
    return not (metric.aggregation == WEIGHTED_SUM and weighted_sum_mode(metric) == CHANGE)


def round_quantity(value: Decimal, rounding: str, precision: int) -> Decimal:
    """The period result rounded once: `round` half up, `ceil` up, `floor` down, to `precision`
    decimal places (a negative precision rounds to tens, hundreds...: 1234 to -2 is 1200);
    `none` returns the value unchanged."""
    mode = _ROUNDING_MODES.get(rounding)
    if mode is None:
        return value
    context = decimal.Context(prec=max(28, value.adjusted() + abs(precision) + 2))
    rounded = value.quantize(Decimal(1).scaleb(-precision), rounding=mode, context=context)
    # 1.2E+3 back to 1200, so a result never prints in exponent form.
    return rounded.quantize(Decimal(1), context=context) if precision < 0 else rounded


def usage_result(
    metric: MetricDefinition, quantity: Decimal | None, event_count: int
) -> UsageResult:
    """A row of SQL output as the metric's rounded result. A negative latest value counts as 0
    (as Lago does: a `last` quantity is never negative)."""
    value = Decimal(0) if quantity is None else quantity
    if metric.aggregation == LAST and value < 0:
        value = Decimal(0)
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
    # Only when set, so that the rollups built before these options existed stay current.
    if is_recurring(metric):
        definition["recurring"] = True
    if weighted_sum_mode(metric) != LEVEL:
        definition["weighted_sum_mode"] = weighted_sum_mode(metric)
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
class Split:
    """Divides a metric's events into buckets and groups, for charges priced per filter and per
    group. An event goes to the first bucket whose conditions it matches (callers order them
    most specific first), bucket -1 when none does; conditions compare as the metric's filters
    do, `ANY_VALUE` meaning any value of the key. Its group is the text values of its bucket's
    group keys (`bucket_group_keys[i]`, or `group_keys` for bucket -1 and when not given), NULL
    where the event lacks the key."""

    buckets: tuple[Any, ...] = ()  # each a mapping {property: [values]}
    group_keys: tuple[str, ...] = ()
    bucket_group_keys: tuple[tuple[str, ...], ...] = ()

    def keys_of(self, bucket: int) -> tuple[str, ...]:
        if 0 <= bucket < len(self.bucket_group_keys):
            return self.bucket_group_keys[bucket]
        return self.group_keys


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


def split_columns_sql(split: Split | None) -> tuple[str, Params]:
    """The select-list columns `f` (bucket index) and `g` (group values) of a split."""
    if split is None:
        return "", []
    conditions: list[tuple[str, Params]] = []
    for values_by_key in split.buckets:
        tests: list[str] = []
        test_params: Params = []
        for key, values in sorted(values_by_key.items()):
            texts = sorted({_json_text(v) for v in values})
            if ANY_VALUE in texts:
                tests.append("(e.properties ->> %s) IS NOT NULL")
                test_params.append(str(key))
            else:
                tests.append("(e.properties ->> %s) = ANY(%s)")
                test_params += [str(key), texts]
        conditions.append((" AND ".join(tests) or "true", test_params))

    def case(then: list[tuple[str, Params]], otherwise: tuple[str, Params]) -> tuple[str, Params]:
        if not conditions:
            return otherwise
        sql, params = "CASE", []
        for (test, test_params), (value, value_params) in zip(conditions, then, strict=True):
            sql += f" WHEN {test} THEN {value}"
            params += test_params + value_params
        return f"{sql} ELSE {otherwise[0]} END", params + otherwise[1]

    def group(keys: tuple[str, ...]) -> tuple[str, Params]:
        if not keys:
            return "'{}'::text[]", []
        return f"ARRAY[{', '.join('e.properties ->> %s' for _ in keys)}]::text[]", list(keys)

    bucket_sql, bucket_params = case(
        [(str(index), []) for index in range(len(conditions))], ("-1", [])
    )
    group_sql, group_params = case(
        [group(split.keys_of(index)) for index in range(len(conditions))],
        group(split.group_keys),
    )
    return f", {bucket_sql} AS f, {group_sql} AS g", bucket_params + group_params


def events_sql(
    metric: MetricDefinition,
    window: Window,
    *,
    split: Split | None = None,
    with_operation: bool = False,
) -> tuple[str, Params]:
    """The metric's contributing events in `window`, as rows (customer_id, ts, received_at, id, v)
    where `v` is what the event adds: 1 for count, the (weighted) numeric value, or the text value
    for unique_count; then, with a `split`, its bucket `f` and group `g`; with `with_operation`,
    `op`: 'remove' when its operation_type property says so, else 'add'."""
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

    extra_sql, extra_params = split_columns_sql(split)
    if with_operation:
        extra_sql += (
            ", CASE WHEN (e.properties ->> %s) = 'remove' THEN 'remove' ELSE 'add' END AS op"
        )
        extra_params.append(OPERATION_PROPERTY)
    sql = (
        f"SELECT e.customer_id, e.timestamp AS ts, e.received_at, e.id, {value_sql} AS v"
        f"{extra_sql} FROM metering_event e WHERE {' AND '.join(where)}"
    )
    return sql, select_params + extra_params + where_params


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
    split: Split | None = None,
) -> tuple[str, Params]:
    """The metric's usage over `[start, end)` straight from the events, one row
    (customer_id, event_count, quantity) per customer with usage (all customers, or the listed
    ones); with a `split`, one row (customer_id, f, g, event_count, quantity) per customer,
    bucket and group. Quantities are unrounded.

    A recurring count or sum has no lower bound: it totals every event before `end`. A recurring
    unique_count counts the values active at some time in the period (see
    `recurring_sql.active_values_sql`)."""
    window = Window(
        start=start, end=end, customer_ids=customer_ids, subscription_id=subscription_id
    )
    if metric.aggregation == WEIGHTED_SUM:
        return _weighted_sum_sql(metric, window, split)
    if is_recurring(metric) and metric.aggregation == UNIQUE_COUNT:
        from metering.aggregation.recurring_sql import active_values_sql

        return active_values_sql(metric, window, split)
    if is_recurring(metric):
        window = replace(window, start=None)
    events, params = events_sql(metric, window, split=split)
    keys = split_keys(split)
    sql = (
        f"SELECT {keys}, count(*) AS event_count, "
        f"{_QUANTITY_SQL[metric.aggregation]} AS quantity "
        f"FROM ({events}) s GROUP BY {keys}"
    )
    return sql, params


def split_keys(split: Split | None, alias: str = "s") -> str:
    """The columns a usage query groups by: the customer, then a split's bucket and group."""
    return f"{alias}.customer_id" + ("" if split is None else f", {alias}.f, {alias}.g")


def _weighted_sum_sql(
    metric: MetricDefinition, window: Window, split: Split | None = None
) -> tuple[str, Params]:
    """In `level` mode each event's value is the gauge's new value and the latest one before the
    period is carried in; in `change` mode each event adds to a running total (events at the
    same instant add up), which starts the period at the sum of all earlier changes when the
    metric is recurring, else at 0."""
    start, end = window.start, window.end
    change = weighted_sum_mode(metric) == CHANGE
    keys = split_keys(split)
    keys_plain = split_keys(split, alias="x").replace("x.", "")
    period_sql, period_params = events_sql(metric, window, split=split)
    before = Window(
        before=start, subscription_id=window.subscription_id, customer_ids=window.customer_ids
    )
    if change:
        if is_recurring(metric):
            before_sql, carried_params = events_sql(metric, before, split=split)
            carried_sql = f"SELECT {keys}, sum(s.v) AS v FROM ({before_sql}) s GROUP BY {keys}"
        else:
            carried_sql, carried_params = (
                f"SELECT {keys}, 0::numeric AS v FROM ({period_sql}) s GROUP BY {keys}",
                list(period_params),
            )
    elif window.customer_ids is not None and split is None:
        # One backward index probe per listed customer for its latest value before the period.
        before_sql, before_params = events_sql(
            metric, replace(before, customer_ids=None, customer_sql="e.customer_id = c.customer_id")
        )
        carried_sql = (
            "SELECT c.customer_id, l.v FROM unnest(%s::text[]) AS c(customer_id) "
            f"CROSS JOIN LATERAL (SELECT s.v FROM ({before_sql}) s "
            f"ORDER BY {_LAST_ORDER} LIMIT 1) l"
        )
        carried_params = [list(window.customer_ids), *before_params]
    else:
        before_sql, carried_params = events_sql(metric, before, split=split)
        carried_sql = (
            f"SELECT DISTINCT ON ({keys}) {keys}, s.v FROM ({before_sql}) s "
            f"ORDER BY {keys}, {_LAST_ORDER}"
        )
    # A change's level is the running total of the changes up to it, the carried total first.
    level = (
        f"sum(v) OVER (PARTITION BY {keys_plain} ORDER BY ts, ord, received_at, id "
        "ROWS UNBOUNDED PRECEDING)"
        if change
        else "v"
    )
    sql = (
        f"WITH carried AS ({carried_sql}), "
        "points AS ("
        f"SELECT {keys_plain}, %s::timestamptz AS ts, 0 AS ord, NULL::timestamptz AS received_at, "
        "0::bigint AS id, v FROM carried "
        f"UNION ALL SELECT {keys_plain}, ts, 1, received_at, id, v FROM ({period_sql}) p), "
        f"levels AS (SELECT {keys_plain}, ord, ts, received_at, id, {level} AS v FROM points), "
        f"spans AS (SELECT {keys_plain}, ord, v, ts, lead(ts, 1, %s::timestamptz) OVER "
        f"(PARTITION BY {keys_plain} ORDER BY ts, ord, received_at, id) AS until FROM levels) "
        f"SELECT {keys_plain}, count(*) FILTER (WHERE ord = 1) AS event_count, "
        "trim_scale(round(round(sum(v * extract(epoch FROM until - ts)), 20) "
        "/ extract(epoch FROM %s::timestamptz - %s::timestamptz), 20)) AS quantity "
        f"FROM spans GROUP BY {keys_plain}"
    )
    return sql, [*carried_params, start, *period_params, end, end, start]


def event_values_sql(
    metric: MetricDefinition,
    *,
    customer_id: str,
    start: datetime,
    end: datetime,
    subscription_id: str | None = None,
    split: Split | None = None,
) -> tuple[str, Params]:
    """What each event of the period adds, in time order (timestamp, received_at, id): 1 for
    count, the (weighted) value for numeric aggregations, and for unique_count 1 where the event
    brings a value not seen earlier in the period (in its bucket and group), else 0 (so the
    values add up to the count). With a `split`, rows (f, g, value), else (value,)."""
    window = Window(
        start=start, end=end, customer_ids=[customer_id], subscription_id=subscription_id
    )
    events, params = events_sql(metric, window, split=split)
    value = "s.v"
    partition = "s.v" if split is None else "s.f, s.g, s.v"
    if metric.aggregation == UNIQUE_COUNT:
        value = (
            f"CASE WHEN row_number() OVER (PARTITION BY {partition} "
            "ORDER BY s.ts, s.received_at, s.id) = 1 THEN 1::numeric ELSE 0::numeric END"
        )
    columns = value if split is None else f"s.f, s.g, {value}"
    return f"SELECT {columns} FROM ({events}) s ORDER BY s.ts, s.received_at, s.id", params
