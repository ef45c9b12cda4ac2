"""Usage benchmark: the one-customer usage query and the billing run's all-customers aggregation
on a large event table, each beside the same query over a plain scan.

    make bench-usage                                  # 10 million events (built once, minutes)
    make bench-usage BENCH_ARGS="--events 1000000"    # a quick run on a smaller set

1. Prepares its own database `<configured name>_bench_usage` (created and migrated on first use).
2. Builds `--events` events over `--customers` customers and seven metrics (count, sum, max,
   unique_count, weighted_sum, a recurring sum and a recurring unique_count of seat users added
   and removed with `operation_type`) in one month, with one
   `INSERT ... SELECT FROM generate_series`
   (the event table's secondary indexes are dropped during the insert and rebuilt after, as
   PostgreSQL builds them faster in one pass), then `VACUUM ANALYZE`. A dataset of the same size
   is reused as it is.
3. Refreshes the daily usage rollups (every metric but `last` ones: daily totals of count, sum
   and max, distinct values per day of unique_count, a gauge's day of weighted_sum), timing the
   refresh, then `VACUUM ANALYZE`s the rollup tables (as autovacuum would).
4. For each metric: p50/p99 of `usage_get` (one customer, one month) over `--samples` random
   customers, beside the same call with index scans disabled (a plain scan of the table,
   `--baseline-samples` customers); and the time of `usage_by_customer_for_period` (every
   customer), beside the raw-events query with index scans disabled (a plain GROUP BY).

Targets: one-customer p99 under 5 ms, all customers under 3 s. Figures go to
bench/results/usage.json.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402

MONTH_START = datetime(2026, 1, 1, tzinfo=UTC)
MONTH_END = datetime(2026, 2, 1, tzinfo=UTC)
METRICS: list[dict[str, Any]] = [
    {"code": "bench_calls", "name": "Bench calls", "aggregation": "count"},
    {"code": "bench_tokens", "name": "Bench tokens", "aggregation": "sum", "field_name": "tokens"},
    {"code": "bench_peak_gb", "name": "Bench peak GB", "aggregation": "max", "field_name": "gb"},
    {
        "code": "bench_users",
        "name": "Bench users",
        "aggregation": "unique_count",
        "field_name": "user_id",
    },
    {
        "code": "bench_seats",
        "name": "Bench seats",
        "aggregation": "weighted_sum",
        "field_name": "seats",
    },
    {
        "code": "bench_storage",
        "name": "Bench storage (recurring)",
        "aggregation": "sum",
        "field_name": "gb",
        "recurring": True,
    },
    {
        "code": "bench_seat_users",
        "name": "Bench seat users (recurring)",
        "aggregation": "unique_count",
        "field_name": "user_id",
        "recurring": True,
    },
]
# The properties of each metric's events, by position in METRICS (mod(g, 7) below).
_PROPERTIES_SQL = """
CASE mod(g, 7)
    WHEN 0 THEN jsonb_build_object('endpoint', '/v1/search')
    WHEN 1 THEN jsonb_build_object('tokens', (random() * 5000)::int, 'model', 'gpt-4o-mini')
    WHEN 2 THEN jsonb_build_object('gb', round((random() * 500)::numeric, 2))
    WHEN 3 THEN jsonb_build_object('user_id', 'user-' || (random() * 50)::int)
    WHEN 4 THEN jsonb_build_object('seats', 1 + (random() * 20)::int)
    WHEN 5 THEN jsonb_build_object('gb', round((random() * 20 - 5)::numeric, 2))
    ELSE jsonb_build_object(
        'user_id', 'user-' || (random() * 30)::int,
        'operation_type', CASE WHEN random() < 0.3 THEN 'remove' ELSE 'add' END)
END
"""
_INSERT_SQL = f"""
INSERT INTO metering_event (customer_id, transaction_id, code, subscription_id, member_id,
                            "timestamp", received_at, properties, payload_hash)
SELECT customer_id, 'e' || g, (%(codes)s::text[])[mod(g, 7) + 1], '', '', at,
       at + interval '1 second', {_PROPERTIES_SQL}, md5(g::text)
FROM (
    SELECT g,
           'customer-' || lpad(mod(g / 7, %(customers)s)::text, 5, '0') AS customer_id,
           %(start)s::timestamptz + random() * (%(end)s::timestamptz - %(start)s::timestamptz) AS at
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS g
) AS generated
"""
BUILD_CHUNK = 2_000_000
ROLLUP_TABLES = (
    "metering_usagerollup",
    "metering_usagedistinctrollup",
    "metering_usagegaugerollup",
)


def main() -> int:
    args = _arguments()
    database = common.bench_database_name("bench_usage")
    print(f"Database: {database} (next to {common.configured_database()['NAME']})", flush=True)
    common.database_prepare(database)
    common.django_setup(database)

    metrics = _metrics_ensure()
    build = _dataset_ensure(args.events, args.customers)
    rollup_seconds = _rollups_refresh()
    rows = []
    for metric in metrics:
        print(f"Measuring {metric.code} ({metric.aggregation}) ...", flush=True)
        rows.append(_measure(metric, args))
    carried = [
        _measure_carried(metric, args)
        for metric in metrics
        if metric.recurring and metric.aggregation == "unique_count"
    ]
    _report(args, database, build, rollup_seconds, rows, carried)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="(default 10,000,000)")
    parser.add_argument("--customers", type=int, default=10_000, help="(default 10,000)")
    parser.add_argument("--samples", type=int, default=1000, help="customers timed per metric")
    parser.add_argument(
        "--baseline-samples", type=int, default=3, help="customers timed per metric on a plain scan"
    )
    parser.add_argument("--seed", type=int, default=42, help="of the customers sampled")
    args = parser.parse_args()
    if args.customers > 99_999 or args.events < len(METRICS) * args.customers:
        parser.error(f"--customers at most 99,999, and at least {len(METRICS)} events per customer")
    return args


# ---------------------------------------------------------------------------------------------
# The dataset


def _metrics_ensure() -> list:
    from metering.models import BillableMetric
    from metering.services import billable_metric_create

    metrics = []
    for definition in METRICS:
        metric = BillableMetric.objects.filter(code=definition["code"]).first()
        metrics.append(metric or billable_metric_create(**definition))
    return metrics


def _dataset_ensure(events: int, customers: int) -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_usage_dataset"
            " (events bigint, customers int, built_at timestamptz, build_seconds float8)"
        )
        # A dataset built for another set of metrics is rebuilt.
        cursor.execute("ALTER TABLE bench_usage_dataset ADD COLUMN IF NOT EXISTS metrics int")
        cursor.execute("SELECT events, customers, build_seconds, metrics FROM bench_usage_dataset")
        marker = cursor.fetchone()
        if marker and marker[:2] == (events, customers) and marker[3] == len(METRICS):
            cursor.execute("SELECT count(*) FROM metering_event")
            if cursor.fetchone()[0] == events:
                print(f"Reusing the dataset of {events:,} events.", flush=True)
                return {"reused": True, "seconds": marker[2]}
    print(f"Building {events:,} events over {customers:,} customers ...", flush=True)
    started = time.monotonic()
    _dataset_build(events, customers)
    seconds = round(time.monotonic() - started, 1)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_usage_dataset")
        cursor.execute(
            "INSERT INTO bench_usage_dataset VALUES (%s, %s, now(), %s, %s)",
            [events, customers, seconds, len(METRICS)],
        )
    print(f"Built in {seconds} s.", flush=True)
    return {"reused": False, "seconds": seconds}


def _dataset_build(events: int, customers: int) -> None:
    from django.db import connection

    codes = [metric["code"] for metric in METRICS]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM bench_usage_dataset")
        cursor.execute(
            "TRUNCATE metering_event, metering_usagerollup, metering_usagedistinctrollup,"
            " metering_usagegaugerollup, metering_usagerollupstate RESTART IDENTITY"
        )
        secondary = _secondary_indexes(cursor)
        for kind, name, _ in secondary:
            if kind == "constraint":
                cursor.execute(f'ALTER TABLE metering_event DROP CONSTRAINT "{name}"')
            else:
                cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SELECT setseed(0.42)")
        for first in range(0, events, BUILD_CHUNK):
            last = min(first + BUILD_CHUNK, events) - 1
            cursor.execute(
                _INSERT_SQL,
                {
                    "codes": codes,
                    "customers": customers,
                    "start": MONTH_START,
                    "end": MONTH_END,
                    "first": first,
                    "last": last,
                },
            )
            print(f"  {last + 1:,} events inserted", flush=True)
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for kind, name, definition in secondary:
            print(f"  rebuilding {name}", flush=True)
            if kind == "constraint":
                cursor.execute(f'ALTER TABLE metering_event ADD CONSTRAINT "{name}" {definition}')
            else:
                cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")
    print("  VACUUM ANALYZE", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE metering_event")


def _secondary_indexes(cursor: Any) -> list[tuple[str, str, str]]:
    """The event table's constraints (but the primary key) and indexes as (kind, name, DDL)."""
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'metering_event'::regclass AND contype IN ('u', 'x')"
    )
    constraints = [("constraint", name, definition) for name, definition in cursor.fetchall()]
    cursor.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x"
        " JOIN pg_class i ON i.oid = x.indexrelid"
        " WHERE x.indrelid = 'metering_event'::regclass AND NOT x.indisprimary"
        " AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
    )
    indexes = [("index", name, definition) for name, definition in cursor.fetchall()]
    return constraints + indexes


def _rollups_refresh() -> float | None:
    try:
        from metering.rollups import usage_rollups_refresh
    except ImportError:
        return None
    from django.db import connection

    print("Refreshing the usage rollups ...", flush=True)
    started = time.monotonic()
    usage_rollups_refresh()
    seconds = round(time.monotonic() - started, 2)
    with connection.cursor() as cursor:
        for table in ROLLUP_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
    return seconds


# ---------------------------------------------------------------------------------------------
# The measurements


def _plain_scan(cursor: Any) -> None:
    for setting in ("enable_indexscan", "enable_bitmapscan", "enable_indexonlyscan"):
        cursor.execute(f"SET LOCAL {setting} = off")


def _measure(metric: Any, args: argparse.Namespace) -> dict[str, Any]:
    from django.db import connection, transaction

    from metering.aggregation import usage_sql
    from metering.selectors import usage_by_customer_for_period, usage_get

    rng = random.Random(f"{args.seed}-{metric.code}")
    customers = [f"customer-{rng.randrange(args.customers):05d}" for _ in range(args.samples)]
    period = {"start": MONTH_START, "end": MONTH_END}

    for customer_id in customers[:20]:  # warm-up, untimed
        usage_get(metric=metric, customer_id=customer_id, **period)
    timings, results = [], {}
    for customer_id in customers:
        started = time.perf_counter()
        results[customer_id] = usage_get(metric=metric, customer_id=customer_id, **period)
        timings.append(time.perf_counter() - started)

    baseline_timings, agree = [], True
    for customer_id in customers[: args.baseline_samples]:
        with transaction.atomic(), connection.cursor() as cursor:
            _plain_scan(cursor)
            started = time.perf_counter()
            plain = usage_get(metric=metric, customer_id=customer_id, **period)
            baseline_timings.append(time.perf_counter() - started)
        agree = agree and plain == results[customer_id]

    all_timings = []
    for _ in range(2):
        started = time.perf_counter()
        everyone = usage_by_customer_for_period(metric=metric, **period)
        all_timings.append(time.perf_counter() - started)
    sql, params = usage_sql(metric, **period)
    with transaction.atomic(), connection.cursor() as cursor:
        _plain_scan(cursor)
        started = time.perf_counter()
        cursor.execute(sql, params)
        raw_rows = cursor.fetchall()
        plain_all_seconds = time.perf_counter() - started
    sampled = customers[0]
    raw = {row[0]: row for row in raw_rows}
    agree = (
        agree
        and len(everyone) == len(raw)
        and everyone[sampled].quantity == results[sampled].quantity
        and everyone[sampled].event_count == raw[sampled][1]
    )
    return {
        "code": metric.code,
        "aggregation": metric.aggregation,
        "one_customer_ms_p50": common.percentile(timings, 0.50) * 1000,
        "one_customer_ms_p99": common.percentile(timings, 0.99) * 1000,
        "one_customer_plain_scan_ms_p50": common.percentile(baseline_timings, 0.50) * 1000,
        "all_customers_seconds": min(all_timings),
        "all_customers_seconds_runs": all_timings,
        "all_customers_plain_scan_seconds": plain_all_seconds,
        "customers_with_usage": len(everyone),
        "events_per_customer_sampled": results[sampled].event_count,
        "results_agree": agree,
    }


def _measure_carried(metric: Any, args: argparse.Namespace) -> dict[str, Any]:
    """A recurring unique_count over the month after the dataset's (no events of its own: all of
    it is the state carried in), read through the monthly snapshot, beside the same rollup read
    without it (every earlier daily row: the path before snapshots), in the same run."""
    from django.db import connection

    from metering.aggregation import metric_definition_hash, rollup_usage_sql
    from metering.models import UsageRollupState
    from metering.selectors import usage_by_customer_for_period, usage_get

    print(f"Measuring {metric.code}, the following month (carried state) ...", flush=True)
    state = UsageRollupState.objects.get(metric=metric)
    period = {"start": MONTH_END, "end": datetime(2026, 3, 1, tzinfo=UTC)}
    rng = random.Random(f"{args.seed}-{metric.code}-carried")
    customers = [f"customer-{rng.randrange(args.customers):05d}" for _ in range(args.samples)]

    def without_snapshot(customer_ids: list[str] | None) -> list[tuple[Any, ...]]:
        sql, params = rollup_usage_sql(
            metric,
            metric_id=metric.pk,
            definition_hash=metric_definition_hash(metric),
            watermark=state.watermark,
            customer_ids=customer_ids,
            snapshot_month=None,
            **period,
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    timings, old_timings, agree = [], [], True
    for customer_id in customers[:20]:
        usage_get(metric=metric, customer_id=customer_id, **period)
    for customer_id in customers:
        started = time.perf_counter()
        result = usage_get(metric=metric, customer_id=customer_id, **period)
        timings.append(time.perf_counter() - started)
        started = time.perf_counter()
        old = without_snapshot([customer_id])
        old_timings.append(time.perf_counter() - started)
        agree = agree and (old[0][2] if old else 0) == result.quantity
    started = time.perf_counter()
    everyone = usage_by_customer_for_period(metric=metric, **period)
    all_seconds = time.perf_counter() - started
    started = time.perf_counter()
    old_all = without_snapshot(None)
    old_all_seconds = time.perf_counter() - started
    agree = agree and {c: q for c, _, q in old_all} == {c: r.quantity for c, r in everyone.items()}
    return {
        "code": metric.code,
        "period": [period["start"].isoformat(), period["end"].isoformat()],
        "one_customer_ms_p50": common.percentile(timings, 0.50) * 1000,
        "one_customer_ms_p99": common.percentile(timings, 0.99) * 1000,
        "without_snapshot_ms_p50": common.percentile(old_timings, 0.50) * 1000,
        "without_snapshot_ms_p99": common.percentile(old_timings, 0.99) * 1000,
        "all_customers_seconds": all_seconds,
        "all_customers_without_snapshot_seconds": old_all_seconds,
        "results_agree": agree,
    }


def _report(
    args: argparse.Namespace,
    database: str,
    build: dict[str, Any],
    rollup_seconds: float | None,
    rows: list[dict[str, Any]],
    carried: list[dict[str, Any]],
) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('metering_event'))")
        size = cursor.fetchone()[0]
    common.table_print(
        f"Usage, PostgreSQL {version}, {common.machine()['cpus']} CPUs; {args.events:,} events "
        f"({size} with indexes), {args.customers:,} customers, one month",
        [
            "metric",
            "1 customer p50 ms",
            "p99 ms",
            "plain scan ms",
            "all customers s",
            "plain scan s",
            "agree",
        ],
        [
            [
                f"{row['code']} ({row['aggregation']})",
                row["one_customer_ms_p50"],
                row["one_customer_ms_p99"],
                row["one_customer_plain_scan_ms_p50"],
                row["all_customers_seconds"],
                row["all_customers_plain_scan_seconds"],
                "yes" if row["results_agree"] else "NO",
            ]
            for row in rows
        ],
    )
    common.table_print(
        "Recurring unique_count, the following month (state carried in only)",
        [
            "metric",
            "1 customer p50 ms",
            "p99 ms",
            "without snapshot p50/p99 ms",
            "all s",
            "all without snapshot s",
            "agree",
        ],
        [
            [
                row["code"],
                row["one_customer_ms_p50"],
                row["one_customer_ms_p99"],
                f"{row['without_snapshot_ms_p50']:.2f}/{row['without_snapshot_ms_p99']:.2f}",
                row["all_customers_seconds"],
                row["all_customers_without_snapshot_seconds"],
                "yes" if row["results_agree"] else "NO",
            ]
            for row in carried
        ],
    )
    build_note = "reused" if build["reused"] else "built"
    print(
        f"Dataset {build_note} (build took {build['seconds']} s); rollup refresh "
        f"{'n/a' if rollup_seconds is None else f'{rollup_seconds} s'}. "
        f"1-customer: {args.samples} customers per metric; plain scan: "
        f"{args.baseline_samples}. All customers: best of 2."
    )
    print(common.machine_line())
    worst_one = max(row["one_customer_ms_p99"] for row in rows)
    worst_all = max(row["all_customers_seconds"] for row in rows)
    print(
        f"Targets: one-customer p99 < 5 ms: {'met' if worst_one < 5 else 'MISSED'} "
        f"(worst {worst_one:.2f} ms); all customers < 3 s: "
        f"{'met' if worst_all < 3 else 'MISSED'} (worst {worst_all:.2f} s)"
    )
    path = common.results_write(
        "usage",
        {
            "command": "python bench/usage.py " + " ".join(sys.argv[1:]),
            "database": database,
            "postgresql": version,
            "events": args.events,
            "customers": args.customers,
            "table_size": size,
            "period": [MONTH_START.isoformat(), MONTH_END.isoformat()],
            "dataset": build,
            "rollup_refresh_seconds": rollup_seconds,
            "samples": args.samples,
            "baseline_samples": args.baseline_samples,
            "metrics": rows,
            "carried_state": carried,
        },
    )
    print(f"Written to {path.relative_to(common.ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
