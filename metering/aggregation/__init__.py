"""Usage aggregation: the SQL that computes a metric over a half-open period `[start, end)`, built
as text + parameters from a metric definition, and the Decimal rounding applied once to a result.

Pure: no ORM. `metering/selectors.py` runs the SQL; `metering/rollups.py` keeps the daily rollups.

What a metric counts (the contract every query here keeps, raw or on rollups):
- An event belongs to a metric when its `code` is the metric's code and its properties match every
  filter key (AND across keys) with one of that key's values (OR within a key). Values compare as
  JSON text (`properties->>'key'`): the filter value 2 matches the property 2 or "2", true matches
  true or "true".
- Numeric aggregations (sum, max, last, weighted_sum) read the property as a finite decimal number
  (a JSON number or a decimal string). Events whose property is missing or not a number are
  skipped; unique_count skips events without the property (or with null).
- `event_count` is the number of events of the period that contributed.
- count: number of events. sum: Σ value × weight, the weight looked up by another property's value
  (`weights`), else the default. max: the largest value. last: the value of the latest event,
  ordered by (timestamp, received_at, id): on equal timestamps the event received last wins, then
  the higher id. unique_count: number of distinct text values.
- weighted_sum: a gauge's time-weighted value, Σ value × seconds it held ÷ period seconds. The
  latest value before the period (same ordering as `last`) is carried in and holds from `start`;
  each value holds until the next event (ties ordered as for `last`) or the period's end. A value
  carried in with no event in the period gives that value with event_count 0. The quotient is
  rounded half up to 20 decimal places, trailing zeros trimmed (before the metric's rounding).
- An empty period is 0 with event_count 0. Rounding (round half up / ceil / floor to
  `rounding_precision` places) applies once, to the period's result, in `round_quantity`.
- A metric whose `field_name` is `member_id` reads the id of the member the event was sent with
  (seat users), falling back to a `member_id` property.
"""

from metering.aggregation.core import (
    ANY_VALUE,
    CHANGE,
    COUNT,
    LAST,
    LEVEL,
    MAX,
    MEMBER_FIELD,
    NUMERIC_AGGREGATIONS,
    OPERATION_PROPERTY,
    RECURRING_START,
    ROLLUP_AGGREGATIONS,
    SUM,
    UNIQUE_COUNT,
    WEIGHTED_SUM,
    ZERO_USAGE,
    MetricDefinition,
    Split,
    UsageResult,
    Window,
    day_ceil,
    day_floor,
    event_values_sql,
    events_sql,
    is_recurring,
    metric_definition_hash,
    reads_rollup,
    round_quantity,
    usage_result,
    usage_sql,
)
from metering.aggregation.rollup_gauge_sql import LATE as ROLLUP_LATE
from metering.aggregation.rollup_sql import rollup_refresh_sql, rollup_usage_sql

__all__ = [
    "ANY_VALUE",
    "CHANGE",
    "COUNT",
    "LEVEL",
    "OPERATION_PROPERTY",
    "RECURRING_START",
    "LAST",
    "MAX",
    "MEMBER_FIELD",
    "NUMERIC_AGGREGATIONS",
    "ROLLUP_AGGREGATIONS",
    "ROLLUP_LATE",
    "SUM",
    "UNIQUE_COUNT",
    "WEIGHTED_SUM",
    "ZERO_USAGE",
    "MetricDefinition",
    "Split",
    "UsageResult",
    "Window",
    "day_ceil",
    "day_floor",
    "event_values_sql",
    "events_sql",
    "is_recurring",
    "metric_definition_hash",
    "reads_rollup",
    "round_quantity",
    "rollup_refresh_sql",
    "rollup_usage_sql",
    "usage_result",
    "usage_sql",
]
