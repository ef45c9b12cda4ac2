"""Ingest benchmark: events/s accepted through the HTTP API, against raw PostgreSQL COPY.

    make bench-ingest                       # 30 s, the defaults below
    make bench-ingest BENCH_ARGS="--seconds 10 --worker-class sync"
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/billing python bench/ingest.py

1. Prepares its own database `<configured name>_bench_ingest` (created and migrated on first use,
   kept afterwards), empties its event table, and creates an API key, two metrics and the
   customers the events name.
2. Starts gunicorn serving the project on 127.0.0.1 (a free port) on that database.
3. Runs load processes (multiprocessing), each with one keep-alive `http.client` connection,
   posting batches of `--batch` events with unique transaction ids to `POST /api/v1/events/batch`
   for `--seconds`, after a short warm-up; reports accepted events/s and p50/p99 batch latency.
4. Stops the server, then COPYs the same number of events (built in memory first, so only the
   COPY is timed) into `bench_copy`, a copy of the event table with all its indexes, and into
   `bench_copy_bare` without any, and prints the rates and the HTTP/COPY ratio.

The server process group is stopped however the run ends (Ctrl-C included). Figures go to
bench/results/ingest.json.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, copy_baseline  # noqa: E402

CUSTOMERS_PREFIX = copy_baseline.CUSTOMERS_PREFIX
METRICS = [
    {"code": "bench_api_calls", "name": "Bench API calls", "aggregation": "count"},
    {
        "code": "bench_tokens",
        "name": "Bench tokens",
        "aggregation": "sum",
        "field_name": "tokens",
    },
]
MODELS = copy_baseline.MODELS


def main() -> int:
    args = _arguments()
    database = common.bench_database_name("bench_ingest")
    print(f"Database: {database} (next to {common.configured_database()['NAME']})", flush=True)
    common.database_prepare(database)
    raw_key = _fixtures_create(database, customers=args.customers)

    server: subprocess.Popen | None = None
    # Ctrl-C and SIGTERM both end the run through the `finally` below, even when started
    # from a shell that had SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_sigterm = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    try:
        port = _free_port()
        server = _server_start(database, port, args)
        _server_wait(port, server)
        print(
            f"gunicorn: {args.workers} {args.worker_class} workers"
            + (f" x {args.threads} threads" if args.worker_class == "gthread" else "")
            + f" on 127.0.0.1:{port}; {args.processes} load processes, batches of {args.batch}, "
            f"{args.seconds:g} s",
            flush=True,
        )
        http_figures = _load_run(port, raw_key, args)
    except KeyboardInterrupt:
        print("\nInterrupted; stopping the server.", file=sys.stderr)
        return 130
    finally:
        if server is not None:
            _server_stop(server)
        signal.signal(signal.SIGTERM, previous_sigterm)

    stored = _events_stored(database)
    copy_figures = copy_baseline.copy_measure(
        database, http_figures["events_accepted"], customers=args.customers
    )
    _report(args, database, http_figures, copy_figures, stored)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="timed load (default 30)")
    parser.add_argument("--processes", type=int, default=3, help="load processes (default 3)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3)")
    parser.add_argument(
        "--worker-class", choices=("sync", "gthread"), default="sync", help="(default sync)"
    )
    parser.add_argument("--threads", type=int, default=2, help="threads of a gthread worker")
    parser.add_argument("--batch", type=int, default=1000, help="events per request (max 1000)")
    parser.add_argument("--customers", type=int, default=1000, help="distinct customer ids")
    parser.add_argument("--warmup", type=int, default=3, help="untimed batches per process")
    args = parser.parse_args()
    if not 1 <= args.batch <= 1000:
        parser.error("--batch must be between 1 and 1000")
    return args


def _sigterm_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


# ---------------------------------------------------------------------------------------------
# Fixtures and the server


def _fixtures_create(database: str, *, customers: int) -> str:
    """Empty the event tables, ensure metrics and customers; returns a fresh API key."""
    common.django_setup(database)
    from django.db import connection

    from billing_site.core.services import api_key_create
    from metering.models import BillableMetric, CustomerAlias
    from metering.services import billable_metric_create

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE metering_event, metering_unknowncustomer, metering_ingestrejection,"
            " metering_usagerollup, metering_usagerollupstate"
        )
    for metric in METRICS:
        if not BillableMetric.objects.filter(code=metric["code"]).exists():
            billable_metric_create(**metric)
    # The customers exist, as in production: ids resolve through the alias table.
    CustomerAlias.objects.bulk_create(
        [
            CustomerAlias(alias_id=customer, customer_id=customer, kind=CustomerAlias.Kind.CUSTOMER)
            for customer in _customer_ids(customers)
        ],
        ignore_conflicts=True,
    )
    _, raw_key = api_key_create(
        name=f"bench ingest {datetime.now(UTC):%Y-%m-%d %H:%M:%S}",
        scopes=["events:write"],
        throttle_rate="1000000/min",
    )
    connection.close()  # the load processes are forked from here; they must not share it
    return raw_key


def _customer_ids(customers: int) -> list[str]:
    return [f"{CUSTOMERS_PREFIX}{number:05d}" for number in range(customers)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_start(database: str, port: int, args: argparse.Namespace) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "billing_site.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads if args.worker_class == "gthread" else 1),
        "--keep-alive",
        "30",
        "--graceful-timeout",
        "5",
        "--log-level",
        "warning",
    ]
    env = {**common.django_environ(database), "LOG_LEVEL": "WARNING"}
    # Its own session, so that stopping it reaches its workers and Ctrl-C reaches only us.
    return subprocess.Popen(command, cwd=common.ROOT, env=env, start_new_session=True)


def _server_wait(port: int, server: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not answer within a minute")


def _server_stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:  # anything left in its group (a worker stuck in a request)
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait()


# ---------------------------------------------------------------------------------------------
# The load


def _event_lines(run: str, process: int, customers: int, count: int) -> list[bytes]:
    """Pre-rendered events, each with a `{n}` slot for its transaction id's batch number."""
    import random

    rng = random.Random(f"{run}-{process}")
    now = datetime.now(UTC)
    lines = []
    for index in range(count):
        customer = f"{CUSTOMERS_PREFIX}{rng.randrange(customers):05d}"
        moment = (now - timedelta(seconds=rng.randrange(3600))).isoformat(timespec="milliseconds")
        if index % 2:
            code, properties = "bench_api_calls", '{"endpoint": "/v1/search"}'
        else:
            tokens, model = rng.randrange(10, 5000), rng.choice(MODELS)
            code, properties = "bench_tokens", f'{{"tokens": {tokens}, "model": "{model}"}}'
        lines.append(
            (
                f'{{"transaction_id": "{run}-{process}-{{n}}-{index}", '
                f'"customer_id": "{customer}", "code": "{code}", "timestamp": "{moment}", '
                f'"properties": {properties}}}'
            ).encode()
        )
    return lines


def _load_process(
    process: int,
    port: int,
    raw_key: str,
    args: argparse.Namespace,
    run: str,
    barrier: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue,
) -> None:
    import msgspec

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    template = b",".join(_event_lines(run, process, args.customers, args.batch))
    prefix, suffix = b'{"events": [', b"]}"
    headers = {"Authorization": f"Bearer {raw_key}", "Content-Type": "application/json"}
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    latencies: list[float] = []
    accepted = other = batches = 0

    def post(number: int) -> tuple[float, dict]:
        body = prefix + template.replace(b"{n}", str(number).encode()) + suffix
        started = time.perf_counter()
        connection.request("POST", "/api/v1/events/batch", body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")
        return elapsed, msgspec.json.decode(payload)

    number = 0
    for _ in range(args.warmup):
        post(number := number + 1)
    barrier.wait()
    started = time.monotonic()
    deadline = started + args.seconds
    while time.monotonic() < deadline:
        elapsed, answer = post(number := number + 1)
        latencies.append(elapsed)
        accepted += answer["accepted"]
        other += answer["duplicates"] + answer["conflicts"] + answer["rejected"]
        batches += 1
    finished = time.monotonic()
    connection.close()
    results.put(
        {
            "process": process,
            "started": started,
            "finished": finished,
            "latencies": latencies,
            "accepted": accepted,
            "other": other,
            "batches": batches,
        }
    )


def _load_run(port: int, raw_key: str, args: argparse.Namespace) -> dict:
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(args.processes)
    results = context.Queue()
    run = secrets.token_hex(3)
    processes = [
        context.Process(
            target=_load_process,
            args=(number, port, raw_key, args, run, barrier, results),
            daemon=True,
        )
        for number in range(args.processes)
    ]
    for process in processes:
        process.start()
    collected = []
    try:
        while len(collected) < len(processes):
            try:
                collected.append(results.get(timeout=1.0))
            except queue.Empty:  # check that nobody died
                dead = [p for p in processes if p.exitcode not in (None, 0)]
                if dead:
                    raise SystemExit(
                        f"a load process failed (exit code {dead[0].exitcode})"
                    ) from None
    except BaseException:
        for process in processes:
            process.terminate()
        raise
    finally:
        for process in processes:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join()
    latencies = [latency for result in collected for latency in result["latencies"]]
    accepted = sum(result["accepted"] for result in collected)
    elapsed = max(r["finished"] for r in collected) - min(r["started"] for r in collected)
    return {
        "seconds": round(elapsed, 2),
        "batches": sum(result["batches"] for result in collected),
        "events_accepted": accepted,
        "events_not_accepted": sum(result["other"] for result in collected),
        "events_per_second": accepted / elapsed,
        "latency_ms_p50": common.percentile(latencies, 0.50) * 1000,
        "latency_ms_p99": common.percentile(latencies, 0.99) * 1000,
        "latency_ms_max": max(latencies) * 1000,
    }


def _events_stored(database: str) -> int:
    with common.connect(database) as connection:
        return connection.execute("SELECT count(*) FROM metering_event").fetchone()[0]


def _report(
    args: argparse.Namespace, database: str, http_figures: dict, copy_figures: dict, stored: int
) -> None:
    with common.connect(database) as connection:
        version = common.server_version(connection)
        indexes = connection.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'metering_event'"
        ).fetchone()[0]
    rate = http_figures["events_per_second"]
    copy_indexed = copy_figures["bench_copy"]["events_per_second"]
    copy_bare = copy_figures["bench_copy_bare"]["events_per_second"]
    rows = [
        [
            f"HTTP POST /api/v1/events/batch ({args.batch}/request)",
            rate,
            http_figures["latency_ms_p50"],
            http_figures["latency_ms_p99"],
            "1.00",
        ],
        [
            f"COPY into the event table's copy ({indexes} indexes)",
            copy_indexed,
            None,
            None,
            f"{rate / copy_indexed:.2f}",
        ],
        ["COPY into a bare copy (no index)", copy_bare, None, None, f"{rate / copy_bare:.2f}"],
    ]
    common.table_print(
        f"Ingest, PostgreSQL {version}, {common.machine()['cpus']} CPUs; "
        f"{http_figures['events_accepted']:,} events accepted in {http_figures['seconds']} s "
        f"({http_figures['batches']:,} batches)",
        ["path", "events/s", "p50 ms", "p99 ms", "HTTP/this"],
        rows,
    )
    if http_figures["events_not_accepted"]:
        print(f"Warning: {http_figures['events_not_accepted']:,} events were not accepted.")
    print(f"Events stored in the bench table (timed run + warm-up): {stored:,}")
    print(common.machine_line())
    path = common.results_write(
        "ingest",
        {
            "command": "python bench/ingest.py " + " ".join(sys.argv[1:]),
            "database": database,
            "postgresql": version,
            "server": {
                "workers": args.workers,
                "worker_class": args.worker_class,
                "threads": args.threads if args.worker_class == "gthread" else 1,
            },
            "load": {
                "processes": args.processes,
                "batch": args.batch,
                "customers": args.customers,
                "seconds": args.seconds,
            },
            "http": http_figures,
            "events_stored": stored,
            "copy": copy_figures,
            "ratio_http_to_copy_indexed": rate / copy_indexed,
            "ratio_http_to_copy_bare": rate / copy_bare,
        },
    )
    print(f"Written to {path.relative_to(common.ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
