"""The ingest benchmark's baseline: raw PostgreSQL COPY of events shaped like the API's into a
copy of the event table with all its indexes (`bench_copy`) and into one with none
(`bench_copy_bare`).

The rows are rendered in memory first; only the COPY and its commit are timed.
"""

from __future__ import annotations

import hashlib
import random
import time
from datetime import UTC, datetime, timedelta

from bench import common

CUSTOMERS_PREFIX = "bench-customer-"
MODELS = ("gpt-4o-mini", "gpt-4o", "claude-3-5-sonnet")
COLUMNS = (
    "customer_id, transaction_id, code, subscription_id, member_id, timestamp, received_at,"
    " properties, payload_hash"
)
TABLES = (
    ("bench_copy", "INCLUDING ALL"),
    ("bench_copy_bare", "INCLUDING ALL EXCLUDING INDEXES"),
)


def copy_rows(count: int, customers: int) -> list[bytes]:
    """`count` events as COPY text rows (half count, half sum events), in chunks of 50,000."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    received = now.isoformat()
    chunks, lines = [], []
    for index in range(count):
        customer = f"{CUSTOMERS_PREFIX}{rng.randrange(customers):05d}"
        moment = (now - timedelta(seconds=rng.randrange(3600))).isoformat()
        if index % 2:
            code, properties = "bench_api_calls", '{"endpoint": "/v1/search"}'
        else:
            tokens, model = rng.randrange(10, 5000), rng.choice(MODELS)
            code, properties = "bench_tokens", f'{{"model": "{model}", "tokens": {tokens}}}'
        transaction_id = f"copy-{index}"
        digest = hashlib.blake2b(f"{customer}{transaction_id}".encode(), digest_size=16)
        lines.append(
            f"{customer}\t{transaction_id}\t{code}\t\t\t{moment}\t{received}\t{properties}\t"
            f"{digest.hexdigest()}\n"
        )
        if len(lines) == 50_000:
            chunks.append("".join(lines).encode())
            lines = []
    if lines:
        chunks.append("".join(lines).encode())
    return chunks


def copy_measure(database: str, count: int, *, customers: int) -> dict[str, dict]:
    """COPY `count` events into each table; the tables are dropped afterwards."""
    print(f"COPY baseline: {count:,} events ...", flush=True)
    chunks = copy_rows(count, customers)
    figures = {}
    with common.connect(database, autocommit=True) as connection:
        # What the HTTP run left to do (autovacuum of the new rows, dirty pages) is done now,
        # untimed, so it does not run during the COPYs.
        connection.execute("VACUUM (ANALYZE) metering_event")
        connection.execute("CHECKPOINT")
        for table, like in TABLES:
            connection.execute(f"DROP TABLE IF EXISTS {table}")
            connection.execute(
                f"CREATE TABLE {table} (LIKE metering_event {like}) WITH (autovacuum_enabled = off)"
            )
            indexes = connection.execute(
                "SELECT count(*) FROM pg_indexes WHERE tablename = %s", [table]
            ).fetchone()[0]
            started = time.perf_counter()
            with connection.transaction(), connection.cursor() as cursor:
                with cursor.copy(f"COPY {table} ({COLUMNS}) FROM STDIN") as copy:
                    for chunk in chunks:
                        copy.write(chunk)
            elapsed = time.perf_counter() - started
            figures[table] = {
                "indexes": indexes,
                "seconds": round(elapsed, 2),
                "events_per_second": count / elapsed if elapsed else float("nan"),
            }
            connection.execute(f"DROP TABLE {table}")
    return figures
