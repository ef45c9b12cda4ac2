"""The set-based SQL of ingest: a handful of statements per batch, whatever its size.

The statements run on a plain psycopg cursor over Django's connection (so inside the caller's
`transaction.atomic`), because they pass whole columns as arrays in PostgreSQL's binary format
(`%b`), which is about 1.8x faster than text here, and Django's cursors bind on the client.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple

import psycopg
from django.db import connection

from metering.ingest.parsing import MetricSpec, ParsedEvent


class _LoggedCursor(psycopg.Cursor[Any]):
    """Logs its statements like Django's own cursors when Django logs queries (DEBUG, and the
    tests' query counts), so that a count of a path's statements includes the ingest's."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> _LoggedCursor:
        started = time.monotonic()
        try:
            return super().execute(query, params, **kwargs)
        finally:
            connection.queries_log.append(
                {"sql": str(query), "time": f"{time.monotonic() - started:.3f}"}
            )


@contextmanager
def raw_cursor() -> Iterator[psycopg.Cursor[Any]]:
    """A server-binding cursor on Django's connection; database errors surface as Django's."""
    connection.ensure_connection()
    cursor_class = _LoggedCursor if connection.queries_logged else psycopg.Cursor
    with connection.wrap_database_errors, cursor_class(connection.connection) as cursor:
        yield cursor


def metric_specs_fetch(cursor: psycopg.Cursor[Any], codes: Sequence[str]) -> dict[str, MetricSpec]:
    """The metrics of `codes` (one indexed query): always current, so a metric created or changed
    a moment ago in another process is seen by the next batch, with no cache to invalidate."""
    if not codes:
        return {}
    cursor.execute(
        "SELECT code, aggregation, field_name FROM metering_billablemetric"
        " WHERE code = ANY(%b::text[])",
        (list(codes),),
    )
    return {code: MetricSpec.of(code, aggregation, field) for code, aggregation, field in cursor}


class InsertedRow(NamedTuple):
    customer_id: str  # the customer the event is stored under (resolved from a member id)
    unknown: bool  # no alias knows the id it was sent with
    inserted: bool  # its key was written by this statement


# Shards of a minute's row in the events-per-minute counts (metering.models.EventActivityCount).
ACTIVITY_SHARDS = 8

# Ids are resolved through the alias table, in-batch repeats of a key are left to the first
# occurrence (DISTINCT ON ... ord), and rows are inserted in key order so that two batches
# sharing keys take the unique index's locks in the same order and cannot deadlock. The same
# statement adds the stored events to this minute's activity count (a data-modifying CTE runs
# whether or not the outer query reads it), so the dashboard's chart costs ingest no round trip.
_INSERT_EVENTS = f"""
WITH input AS (
    SELECT *
    FROM unnest(%(sent)b::text[], %(transaction)b::text[], %(code)b::text[],
                %(subscription)b::text[], %(timestamp)b::int8[], %(properties)b::text[],
                %(hash)b::text[])
         WITH ORDINALITY
         AS t(sent_id, transaction_id, code, subscription_id, timestamp_us, properties,
              payload_hash, ord)
), resolved AS (
    SELECT input.*,
           coalesce(alias.customer_id, input.sent_id) AS customer_id,
           CASE WHEN alias.kind = 'member' THEN input.sent_id ELSE '' END AS member_id,
           alias.alias_id IS NULL AS unknown
    FROM input
    LEFT JOIN metering_customeralias AS alias ON alias.alias_id = input.sent_id
), inserted AS (
    INSERT INTO metering_event (customer_id, transaction_id, code, subscription_id, member_id,
                                "timestamp", received_at, properties, payload_hash)
    SELECT DISTINCT ON (customer_id COLLATE "C", transaction_id COLLATE "C")
           customer_id, transaction_id, code, subscription_id, member_id,
           timestamptz 'epoch' + timestamp_us * interval '1 microsecond',
           %(received_at)b, properties::jsonb, payload_hash
    FROM resolved
    ORDER BY customer_id COLLATE "C", transaction_id COLLATE "C", ord
    ON CONFLICT (customer_id, transaction_id) DO NOTHING
    RETURNING customer_id, transaction_id
), counted AS (
    INSERT INTO metering_eventactivitycount AS activity (minute, shard, event_count)
    SELECT date_trunc('minute', %(received_at)b::timestamptz, 'UTC'),
           pg_backend_pid() %% {ACTIVITY_SHARDS}, count(*)
    FROM inserted
    HAVING count(*) > 0
    ON CONFLICT (minute, shard)
    DO UPDATE SET event_count = activity.event_count + excluded.event_count
)
SELECT resolved.customer_id, resolved.unknown, inserted.transaction_id IS NOT NULL
FROM resolved
LEFT JOIN inserted
       ON inserted.customer_id = resolved.customer_id
      AND inserted.transaction_id = resolved.transaction_id
ORDER BY resolved.ord
"""


# A batch of a few events (an entitlement consume, a single event) runs the statement prepared,
# planned once per connection: planning it costs more than inserting one row. Larger batches are
# planned each time, so that the planner sees their size.
PREPARED_BATCH_AT_MOST = 16


def events_insert(
    cursor: psycopg.Cursor[Any], events: Sequence[ParsedEvent], *, received_at: datetime
) -> list[InsertedRow]:
    """Insert the events in one statement; one row per event, in order."""
    cursor.execute(
        _INSERT_EVENTS,
        {
            "sent": [event.sent_customer_id for event in events],
            "transaction": [event.transaction_id for event in events],
            "code": [event.code for event in events],
            "subscription": [event.subscription_id for event in events],
            "timestamp": [event.timestamp_us for event in events],
            "properties": [event.properties_json for event in events],
            "hash": [event.payload_hash for event in events],
            "received_at": received_at,
        },
        prepare=len(events) <= PREPARED_BATCH_AT_MOST,
    )
    return [InsertedRow(*row) for row in cursor.fetchall()]


def stored_hashes_fetch(
    cursor: psycopg.Cursor[Any], keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """Payload hashes of stored events by (customer_id, transaction_id).

    Run after the insert, in a new statement: under READ COMMITTED it sees a key that a
    concurrent batch committed while our insert waited on it."""
    if not keys:
        return {}
    cursor.execute(
        "SELECT event.customer_id, event.transaction_id, event.payload_hash"
        " FROM unnest(%b::text[], %b::text[]) AS key(customer_id, transaction_id)"
        " JOIN metering_event AS event"
        "   ON event.customer_id = key.customer_id AND event.transaction_id = key.transaction_id",
        ([key[0] for key in keys], [key[1] for key in keys]),
    )
    return {(customer_id, transaction_id): h for customer_id, transaction_id, h in cursor}


def unknown_customers_upsert(
    cursor: psycopg.Cursor[Any], counts: dict[str, int], *, seen_at: datetime
) -> None:
    """Count accepted events of ids no alias knows; sorted so concurrent batches lock rows in
    the same order."""
    if not counts:
        return
    customer_ids = sorted(counts)
    cursor.execute(
        "INSERT INTO metering_unknowncustomer"
        " (customer_id, first_seen_at, last_seen_at, event_count)"
        " SELECT customer_id, %b, %b, n"
        " FROM unnest(%b::text[], %b::int8[]) AS unknown(customer_id, n)"
        " ORDER BY customer_id"
        " ON CONFLICT (customer_id) DO UPDATE SET"
        "  last_seen_at = greatest(metering_unknowncustomer.last_seen_at, excluded.last_seen_at),"
        "  event_count = metering_unknowncustomer.event_count + excluded.event_count",
        (seen_at, seen_at, customer_ids, [counts[c] for c in customer_ids]),
    )


class RejectionRow(NamedTuple):
    customer_id: str
    transaction_id: str
    code: str
    field: str
    reason: str
    payload_json: str | None


def rejections_insert(
    cursor: psycopg.Cursor[Any],
    rows: Sequence[RejectionRow],
    *,
    received_at: datetime,
    api_key_prefix: str,
) -> None:
    if not rows:
        return
    cursor.execute(
        "INSERT INTO metering_ingestrejection"
        " (received_at, api_key_prefix, customer_id, transaction_id, code, field, reason, payload)"
        " SELECT %b, %b, customer_id, transaction_id, code, field, reason, payload::jsonb"
        " FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[], %b::text[], %b::text[])"
        "  WITH ORDINALITY AS r(customer_id, transaction_id, code, field, reason, payload, ord)"
        " ORDER BY ord",
        (
            received_at,
            api_key_prefix,
            [row.customer_id for row in rows],
            [row.transaction_id for row in rows],
            [row.code for row in rows],
            [row.field for row in rows],
            [row.reason for row in rows],
            [row.payload_json for row in rows],
        ),
    )


class LookupRow(NamedTuple):
    customer_id: str
    transaction_id: str
    found: bool
    received_at: datetime | None
    timestamp: datetime | None
    payload_hash: str | None
    code: str | None


def events_lookup_fetch(
    cursor: psycopg.Cursor[Any], keys: Sequence[tuple[str, str]]
) -> list[LookupRow]:
    """Which of the (customer or member id, transaction_id) pairs are stored: one query."""
    if not keys:
        return []
    cursor.execute(
        "SELECT key.sent_id, key.transaction_id, event.id IS NOT NULL,"
        "       event.received_at, event.timestamp, event.payload_hash, event.code"
        " FROM unnest(%b::text[], %b::text[]) WITH ORDINALITY"
        "      AS key(sent_id, transaction_id, ord)"
        " LEFT JOIN metering_customeralias AS alias ON alias.alias_id = key.sent_id"
        " LEFT JOIN metering_event AS event"
        "   ON event.customer_id = coalesce(alias.customer_id, key.sent_id)"
        "  AND event.transaction_id = key.transaction_id"
        " ORDER BY key.ord",
        ([key[0] for key in keys], [key[1] for key in keys]),
    )
    return [LookupRow(*row) for row in cursor.fetchall()]
