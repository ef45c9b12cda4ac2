"""Raw statements of the API's hot path, prepared once per connection.

Every API request authenticates its key and is written to the request log; through the ORM
those two cost ~1.3 ms and ~0.8 ms of Python per request (query compilation and model
instantiation), more than PostgreSQL spends answering them. As raw statements prepared on the
server they cost a round trip each.

They also stand in for Django's connection health check (``CONN_HEALTH_CHECKS``), which spends a
``SELECT 1`` round trip on the first use of a kept connection in each request: the API key's
statement is every API request's first, so it checks the connection itself (a connection the
server closed since the last request is opened again and the statement run once more) and, once
it succeeds, tells Django the check is done.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import OperationalError, connection
from psycopg import pq


@contextmanager
def _server_cursor() -> Iterator[psycopg.Cursor[Any]]:
    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        yield cursor


def prepared_fetchone(sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """Run ``sql`` as a prepared statement on Django's connection (in its transaction): planned
    once per connection, not per request. Logged like Django's own queries when they are (the
    query-count tests see it)."""
    started = time.monotonic()
    try:
        row = _fetchone(sql, params)
    except OperationalError:
        if not _lost_since_last_request():
            raise
        connection.close()
        row = _fetchone(sql, params)
    connection.health_check_done = True
    if connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - started:.3f}"})
    return row


def _fetchone(sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
    with _server_cursor() as cursor:
        cursor.execute(sql, params, prepare=True)
        # Not ``cursor.description``: it builds a Column object per column on each call.
        result = cursor.pgresult
        return cursor.fetchone() if result and result.status == pq.ExecStatus.TUPLES_OK else None


def _lost_since_last_request() -> bool:
    """The failure is what Django's health check would have caught: the request's first use of a
    kept connection, outside any transaction, and the connection is gone (not a bad statement)."""
    raw = connection.connection
    return (
        connection.health_check_enabled
        and not connection.health_check_done
        and not connection.in_atomic_block
        and (raw is None or raw.closed or raw.broken)
    )


API_KEY_BY_PREFIX = """
SELECT id, name, prefix, secret_hash, scopes, throttle_rate, created_at, created_by_id,
       last_used_at, revoked_at
FROM core_apikey WHERE prefix = %(prefix)s
"""

API_REQUEST_LOG_INSERT = """
INSERT INTO core_apirequestlog
  (created_at, api_key_id, method, path, query, status_code, duration_us, error_code, error_body)
VALUES (%(created_at)s, %(api_key_id)s, %(method)s, %(path)s, %(query)s, %(status_code)s,
        %(duration_us)s, %(error_code)s, %(error_body)s)
"""
