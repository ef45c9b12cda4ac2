"""Pieces shared by the rollup SQL of every aggregation (see `metering/rollups.py`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from metering.aggregation.core import (
    MetricDefinition,
    Params,
    Window,
    day_ceil,
    day_floor,
    events_sql,
)

# One day in absolute time (not the session time zone's calendar day).
DAY = "interval '24 hours'"


def state_current_sql(
    *, metric_id: int, watermark: int, definition_hash: str
) -> tuple[str, Params]:
    """True while the metric's rollup state still has watermark W and this definition, read in
    the statement's own snapshot."""
    return (
        "EXISTS (SELECT 1 FROM metering_usagerollupstate st "
        "WHERE st.metric_id = %s AND st.watermark = %s AND st.definition_hash = %s)",
        [metric_id, watermark, definition_hash],
    )


def stale_marker_sql(current: str) -> str:
    """The row (NULL, 0, NULL) that a reader's statement returns when its watermark went stale:
    the caller reads the watermark again."""
    return f"SELECT NULL, 0, NULL WHERE NOT {current}"


def period_split(
    start: datetime, end: datetime
) -> tuple[tuple[datetime, datetime] | None, list[tuple[datetime, datetime]]]:
    """`[start, end)` as its whole UTC days `[inner_start, inner_end)` (None when it holds no
    whole day) and the partial days at its edges, which are read from the events."""
    inner_start, inner_end = day_ceil(start), day_floor(end)
    if inner_start < inner_end:
        edges = [(a, b) for a, b in ((start, inner_start), (inner_end, end)) if a < b]
        return (inner_start, inner_end), edges
    return None, [(start, end)]


def edge_window(
    *,
    table: str,
    metric_id: int,
    start: datetime,
    end: datetime,
    watermark: int,
    customer_ids: Sequence[str] | None,
) -> Window:
    """The events with `id <= W` of a partial day `[start, end)`. For all customers: those of
    the customers with a rollup row on that day (any such event put one there), so the events
    are read through the (customer_id, code, timestamp) index rather than a scan of the table."""
    if customer_ids is not None:
        return Window(start=start, end=end, customer_ids=customer_ids, id_upto=watermark)
    return Window(
        start=start,
        end=end,
        customer_sql=(
            f"e.customer_id IN (SELECT r.customer_id FROM {table} r "
            "WHERE r.metric_id = %s AND r.bucket >= %s AND r.bucket < %s)"
        ),
        customer_sql_params=(metric_id, day_floor(start), end),
        id_upto=watermark,
    )


def raw_event_parts(
    metric: MetricDefinition,
    *,
    table: str,
    metric_id: int,
    start: datetime,
    end: datetime,
    edges: Sequence[tuple[datetime, datetime]],
    watermark: int,
    customer_ids: Sequence[str] | None,
    row_template: str,
) -> tuple[list[str], Params]:
    """The parts of a rollup read that come from the events: the partial days at the period's
    edges, and every event of the period above the watermark; each wrapped in `row_template`."""
    windows = [
        edge_window(
            table=table,
            metric_id=metric_id,
            start=edge_start,
            end=edge_end,
            watermark=watermark,
            customer_ids=customer_ids,
        )
        for edge_start, edge_end in edges
    ]
    windows.append(Window(start=start, end=end, customer_ids=customer_ids, id_above=watermark))
    parts: list[str] = []
    params: Params = []
    for window in windows:
        events, events_params = events_sql(metric, window)
        parts.append(row_template.format(events=events))
        params += events_params
    return parts, params
