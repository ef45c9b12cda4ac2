"""Entitlements benchmark: the check and the consume through HTTP, on the metering benchmark's
event table, beside a no-op DRF endpoint with the same authentication (the framework baseline)
measured in the same run.

    make bench-entitlements                                   # 10 million events, 30 s each
    make bench-entitlements BENCH_ARGS="--events 1000000 --seconds 15"

1. Prepares its own database `<configured name>_bench_entitlements` and builds the metering
   usage benchmark's dataset in it (`--events` over `--customers`, reused when the size matches),
   then refreshes the daily rollups.
2. Subscribes `--subscribed` of those customers to a plan whose feature `bench-calls` counts the
   dataset's `bench_calls` metric with a lifetime window (so each customer's first check
   aggregates its events of the dataset) and a hard limit no run reaches.
   Their billing periods are set to the one holding now, as the beat task that advances periods
   keeps them in production (the bench runs no beat).
3. Starts gunicorn (`--worker-class`) on 127.0.0.1, a free port, and after a warm-up that reads
   every subscribed customer once, measures each endpoint twice, `--seconds` each time:
   `GET /api/v1/bench/noop` (baseline), `GET .../entitlements/bench-calls?quantity=1` (check) and
   `POST .../entitlements/bench-calls/consume` (consume, unique transaction ids).
   - At saturation: `--clients` closed-loop client processes, each with one keep-alive
     connection, sending the next request as soon as the last is answered: the requests/s the
     server sustains. Latency here is mostly queueing (clients, workers and PostgreSQL share the
     cores).
   - At a fixed rate (open loop): the same processes send `--rate` requests/s between them on a
     schedule, and each latency counts from the request's scheduled start, so a slow answer
     also delays (and is charged to) the ones queued behind it. Without `--rate`, half of the
     consume's saturated requests/s of this run: a load every endpoint sustains, the same for
     all three.
4. Prints requests/s and p50/p99 latency of each, the check's ratios to the baseline, and writes
   bench/results/entitlements.json. The API request log (one row per request, the baseline's
   included) follows API_REQUEST_LOG_ENABLED: run with it true and false to see its cost.
   Targets: check p99 within 1.5x of the baseline's and at least 60% of its requests/s; consume
   p99 under 10 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import queue
import secrets
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from dateutil.relativedelta import relativedelta

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, usage  # noqa: E402
from bench.ingest import _free_port, _server_start, _server_stop, _server_wait  # noqa: E402

ENDPOINTS = ("noop", "check", "consume")
FEATURE = "bench-calls"
NOOP_PATH = "/api/v1/bench/noop"  # logged by the request log middleware like the others
PLAN = "bench-entitlements"


def main() -> int:
    args = _arguments()
    database = common.bench_database_name("bench_entitlements")
    print(f"Database: {database} (next to {common.configured_database()['NAME']})", flush=True)
    common.database_prepare(database)
    common.django_setup(database)
    usage._metrics_ensure()
    _consumed_events_delete()  # the last run's, so that the dataset's size matches and is reused
    build = usage._dataset_ensure(args.events, args.customers)
    rollup_seconds = usage._rollups_refresh()
    raw_key, customers = _fixtures_create(args)
    events_before = _events_count()

    from django.db import connection

    connection.close()  # the server and the clients must not share it
    port = _free_port()
    server = _server_start(database, port, args)
    try:
        _server_wait(port, server)
        _warm_up(port, raw_key, customers)
        rows = {}
        for name in ENDPOINTS:
            print(f"Measuring {name} at saturation for {args.seconds:g} s ...", flush=True)
            rows[name] = _load_run(name, port, raw_key, customers, args, rate=None)
        rate = args.rate or max(10.0, rows["consume"]["requests_per_second"] // 20 * 10)
        fixed = {}
        for name in ENDPOINTS:
            print(f"Measuring {name} at {rate:g} requests/s for {args.seconds:g} s ...", flush=True)
            fixed[name] = _load_run(name, port, raw_key, customers, args, rate=rate)
    finally:
        _server_stop(server)
    _report(args, database, build, rollup_seconds, events_before, rows, fixed, rate)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="(default 10,000,000)")
    parser.add_argument("--customers", type=int, default=10_000, help="(default 10,000)")
    parser.add_argument("--subscribed", type=int, default=500, help="customers with a plan")
    parser.add_argument("--seconds", type=float, default=30.0, help="per endpoint (default 30)")
    parser.add_argument("--clients", type=int, default=4, help="client processes (default 4)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument(
        "--worker-class",
        choices=("sync", "gthread"),
        default="sync",
        help="sync closes each connection after its answer; gthread (one thread) keeps it open",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="requests/s of the fixed-rate runs (default: half the consume's saturated rate)",
    )
    args = parser.parse_args()
    args.threads = 1  # for bench.ingest's server start (a gthread worker with one thread)
    if args.subscribed > args.customers:
        parser.error("--subscribed at most --customers")
    return args


def _fixtures_create(args: argparse.Namespace) -> tuple[str, list[str]]:
    """The plan, the subscribed customers (idempotent) and a fresh API key."""

    from billing_site.core.services import api_key_create
    from entitlements.models import ConsumeRecord, UsageCounter
    from metering.models import BillableMetric
    from plans.models import Feature, Plan, Subscription
    from plans.services import (
        customer_create,
        feature_create,
        plan_create,
        plan_feature_set,
        plan_version_create_draft,
        plan_version_publish,
        subscription_create,
    )

    metric = BillableMetric.objects.get(code="bench_calls")
    feature = Feature.objects.filter(slug=FEATURE).first() or feature_create(
        slug=FEATURE, name="Bench calls", kind="metered", metric=metric
    )
    plan = Plan.objects.filter(code=PLAN).first()
    if plan is None:
        plan = plan_create(code=PLAN, name="Bench entitlements")
        draft = plan_version_create_draft(plan=plan, base_fee=Decimal(0))
        plan_feature_set(
            version=draft, feature=feature, limit=Decimal(10**12), reset_period="never"
        )
        plan_version_publish(version=draft)
    customers = [f"customer-{n:05d}" for n in range(args.subscribed)]
    started = datetime(2026, 1, 1, tzinfo=UTC)
    print(f"Subscribing {len(customers)} customers ...", flush=True)
    for external_id in customers:
        customer, _ = customer_create(external_id=external_id)
        subscription_create(
            customer=customer, plan=plan, external_id=f"bench-{external_id}", started_at=started
        )
    # The period holding now, as the beat task that advances periods would have left it.
    now = datetime.now(UTC)
    period_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    Subscription.objects.filter(version__plan=plan).update(
        current_period_start=period_start,
        current_period_end=period_start + relativedelta(months=1),
    )
    # Each run starts cold: counters are built by the warm-up, consumes are new.
    UsageCounter.objects.all().delete()
    ConsumeRecord.objects.all().delete()
    _, raw_key = api_key_create(
        name=f"bench entitlements {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
        scopes=["entitlements:read", "entitlements:write"],
        throttle_rate="100000000/min",
    )
    return raw_key, customers


def _consumed_events_delete() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('metering_event') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute(
                "DELETE FROM metering_event WHERE transaction_id LIKE 'bench-consume-%%'"
            )


def _events_count() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM metering_event")
        return cursor.fetchone()[0]


def _request(name: str, customer: str, number: int, run: str) -> tuple[str, str, bytes | None]:
    if name == "noop":
        return "GET", NOOP_PATH, None
    path = f"/api/v1/customers/{customer}/entitlements/{FEATURE}"
    if name == "check":
        return "GET", f"{path}?quantity=1", None
    body = json.dumps({"transaction_id": f"bench-consume-{run}-{number}", "quantity": 1})
    return "POST", f"{path}/consume", body.encode()


def _warm_up(port: int, raw_key: str, customers: list[str]) -> None:
    """Read every customer once (builds its counter from the rollups), untimed."""
    print("Warm-up: one check per customer ...", flush=True)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Bearer {raw_key}"}
    started = time.monotonic()
    for customer in customers:
        method, path, _ = _request("check", customer, 0, "")
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"warm-up: HTTP {response.status}: {body[:300]!r}")
    connection.close()
    print(f"  {len(customers)} counters built in {time.monotonic() - started:.1f} s", flush=True)


def _client(
    process: int,
    name: str,
    port: int,
    raw_key: str,
    customers: list[str],
    args: argparse.Namespace,
    rate: float | None,
    run: str,
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue,
) -> None:
    """Closed loop (``rate`` None): the next request as soon as the last is answered. Open loop:
    this process's share of ``rate`` on a schedule, latency from each scheduled start."""
    import random

    rng = random.Random(f"{run}-{process}")
    headers = {"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies: list[float] = []
    errors = 0

    def call(number: int, scheduled: float | None = None) -> float:
        nonlocal errors
        method, path, body = _request(name, rng.choice(customers), number, f"{run}-{process}")
        started = time.perf_counter()
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            errors += 1
        return time.perf_counter() - (started if scheduled is None else scheduled)

    number = 0
    for _ in range(20):
        call(number := number + 1)
    barrier.wait()
    started = time.monotonic()
    deadline = started + args.seconds
    if rate is None:
        while time.monotonic() < deadline:
            latencies.append(call(number := number + 1))
    else:
        interval = args.clients / rate
        # perf_counter and monotonic share a clock on Linux; the processes start staggered.
        scheduled = time.perf_counter() + interval * process / args.clients
        while time.monotonic() < deadline:
            ahead = scheduled - time.perf_counter()
            if ahead > 0:
                time.sleep(ahead)
            latencies.append(call(number := number + 1, scheduled))
            scheduled += interval
    results.put(
        {
            "latencies": latencies,
            "errors": errors,
            "started": started,
            "finished": time.monotonic(),
        }
    )
    connection.close()


def _load_run(
    name: str,
    port: int,
    raw_key: str,
    customers: list[str],
    args: argparse.Namespace,
    *,
    rate: float | None,
) -> dict:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(args.clients)
    results = context.Queue()
    run = secrets.token_hex(3)
    processes = [
        context.Process(
            target=_client,
            args=(n, name, port, raw_key, customers, args, rate, run, barrier, results),
            daemon=True,
        )
        for n in range(args.clients)
    ]
    for process in processes:
        process.start()
    collected = []
    try:
        while len(collected) < len(processes):
            try:
                collected.append(results.get(timeout=1.0))
            except queue.Empty:
                dead = [p for p in processes if p.exitcode not in (None, 0)]
                if dead:
                    raise SystemExit(f"a client failed (exit code {dead[0].exitcode})") from None
    finally:
        for process in processes:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join()
    latencies = [latency for result in collected for latency in result["latencies"]]
    elapsed = max(r["finished"] for r in collected) - min(r["started"] for r in collected)
    return {
        "offered_rate": rate,
        "requests": len(latencies),
        "errors": sum(r["errors"] for r in collected),
        "seconds": round(elapsed, 2),
        "requests_per_second": len(latencies) / elapsed,
        "latency_ms_p50": common.percentile(latencies, 0.50) * 1000,
        "latency_ms_p99": common.percentile(latencies, 0.99) * 1000,
    }


def _request_log_enabled() -> bool:
    from django.conf import settings

    return bool(settings.API_REQUEST_LOG_ENABLED)


def _report(
    args: argparse.Namespace,
    database: str,
    build: dict,
    rollup_seconds: float | None,
    events_before: int,
    rows: dict[str, dict],
    fixed: dict[str, dict],
    rate: float,
) -> None:
    with common.connect(database) as connection:
        version = common.server_version(connection)
    ratios = {
        "check_rps_over_noop": rows["check"]["requests_per_second"]
        / rows["noop"]["requests_per_second"],
        "check_p99_over_noop": rows["check"]["latency_ms_p99"] / rows["noop"]["latency_ms_p99"],
        "check_p99_over_noop_at_fixed_rate": fixed["check"]["latency_ms_p99"]
        / fixed["noop"]["latency_ms_p99"],
    }
    print(f"\nPostgreSQL {version}; {events_before:,} events in the table; {common.machine_line()}")
    print(
        f"gunicorn: {args.workers} {args.worker_class} workers; {args.clients} client processes; "
        f"{args.subscribed} subscribed customers; {args.seconds:g} s per run; "
        f"API request log {'on' if _request_log_enabled() else 'off'}"
    )
    headers = ["endpoint", "requests/s", "p50 ms", "p99 ms", "requests", "errors"]

    def table(measured: dict[str, dict]) -> list[tuple]:
        return [
            (
                name,
                row["requests_per_second"],
                row["latency_ms_p50"],
                row["latency_ms_p99"],
                row["requests"],
                row["errors"],
            )
            for name, row in measured.items()
        ]

    common.table_print(f"At saturation ({args.clients} closed-loop clients)", headers, table(rows))
    common.table_print(
        f"At a fixed {rate:g} requests/s (open loop; latency from each scheduled start)",
        headers,
        table(fixed),
    )
    print(
        f"\ncheck / no-op: requests/s {ratios['check_rps_over_noop']:.0%} (target ≥ 60%); "
        f"p99 {ratios['check_p99_over_noop']:.2f}x at saturation, "
        f"{ratios['check_p99_over_noop_at_fixed_rate']:.2f}x at {rate:g}/s (target ≤ 1.5x)"
    )
    print(
        f"consume p99: {rows['consume']['latency_ms_p99']:.2f} ms at saturation, "
        f"{fixed['consume']['latency_ms_p99']:.2f} ms at {rate:g}/s (target < 10 ms)"
    )
    path = common.results_write(
        "entitlements",
        {
            "arguments": vars(args),
            "api_request_log_enabled": _request_log_enabled(),
            "database": {"name": database, "server_version": version},
            "dataset": {"events": events_before, "build": build},
            "rollup_refresh_seconds": rollup_seconds,
            "results": rows,
            "fixed_rate": {"requests_per_second": rate, "results": fixed},
            "ratios": ratios,
        },
    )
    print(f"Results: {path}")


if __name__ == "__main__":
    sys.exit(main())
