"""Billing benchmark: one full billing run through the real tasks, on a large event table.

    make bench-billing                                         # 10,000 subscriptions, 10 M events
    make bench-billing BENCH_ARGS="--events 1000000 --customers 1000"   # a quick run

1. Prepares its own database `<configured name>_bench_billing` and builds (or reuses) the
   usage benchmark's dataset there: `--events` events of five metrics over `--customers`
   customers in January 2026 (see bench/usage.py), and refreshes the daily rollups.
2. Creates a published monthly plan (calendar billing) charging all five metrics (graduated,
   package, volume, standard, standard), and one customer + subscription per event customer,
   started on 2026-01-01 (bulk inserts; reused when present). Before each run, the invoices
   and billing runs are deleted and the subscriptions put back on January.
3. Starts a Celery worker (`--concurrency` processes) on the configured broker (the filesystem
   transport without CELERY_BROKER_URL), enqueues `invoices.bill_due` with the clock at
   2026-02-01 00:05 UTC, and times the run from the enqueue until its `BillingRun` is done.
   Every subscription gets a finalized invoice.
4. Counts SQL statements in process: bills one batch of `--batch` subscriptions, then one of
   twice that size, with Django's query capture, so the per-batch and per-subscription
   statements show; the baseline is the same count for a batch of one.

Figures go to bench/results/billing.json.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common  # noqa: E402
from bench import usage as usage_bench  # noqa: E402

PERIOD_START = datetime(2026, 1, 1, tzinfo=UTC)
PERIOD_END = datetime(2026, 2, 1, tzinfo=UTC)
BILLED_AT = datetime(2026, 2, 1, 0, 5, tzinfo=UTC)
PLAN = "bench-billing"
TIERS = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 100, "per_unit_amount": "0.02", "flat_amount": "0"},
        {"from_value": 101, "to_value": None, "per_unit_amount": "0.01", "flat_amount": "0"},
    ]
}
CHARGES = {
    "bench_calls": ("graduated", TIERS),
    "bench_tokens": ("package", {"amount": "0.5", "package_size": 1000, "free_units": 0}),
    "bench_peak_gb": (
        "volume",
        {
            "volume_ranges": [
                {"from_value": 0, "to_value": 100, "per_unit_amount": "0.1", "flat_amount": "0"},
                {
                    "from_value": 101,
                    "to_value": None,
                    "per_unit_amount": "0.05",
                    "flat_amount": "1",
                },
            ]
        },
    ),
    "bench_users": ("standard", {"amount": "2", "free_units": 5}),
    "bench_seats": ("standard", {"amount": "8"}),
}


def main() -> int:
    args = _arguments()
    database = common.bench_database_name("bench_billing")
    print(f"Database: {database} (next to {common.configured_database()['NAME']})", flush=True)
    common.database_prepare(database)
    common.django_setup(database)

    metrics = usage_bench._metrics_ensure()
    build = usage_bench._dataset_ensure(args.events, args.customers)
    rollup_seconds = usage_bench._rollups_refresh()
    subscriptions = _subscriptions_ensure(metrics, args.customers)
    run = _timed_run(database, args)
    queries = _query_counts(args.batch)
    _report(args, database, build, rollup_seconds, subscriptions, run, queries)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="(default 10,000,000)")
    parser.add_argument("--customers", type=int, default=10_000, help="(default 10,000)")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--batch", type=int, default=250, help="subscriptions per batch counted")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds to wait for the run")
    return parser.parse_args()


def _subscriptions_ensure(metrics: list, customers: int) -> int:
    from django.db import connection

    from plans.models import Customer, Plan, Subscription
    from plans.services import (
        charge_create,
        plan_create,
        plan_version_create_draft,
        plan_version_publish,
    )

    plan = Plan.objects.filter(code=PLAN).first()
    if plan is None:
        plan = plan_create(code=PLAN, name="Bench billing")
        version = plan_version_create_draft(plan=plan, base_fee=Decimal("49"), interval="month")
        by_code = {metric.code: metric for metric in metrics}
        for position, (code, (model, properties)) in enumerate(CHARGES.items(), start=1):
            charge_create(
                version=version,
                metric=by_code[code],
                charge_model=model,
                properties=properties,
                position=position,
            )
        plan_version_publish(version=version)
    version = plan.versions.get(status="published")
    if Subscription.objects.filter(version=version).count() != customers:
        print(f"Creating {customers:,} customers and subscriptions ...", flush=True)
        Subscription.objects.filter(version=version).delete()
        existing = set(Customer.objects.values_list("external_id", flat=True))
        Customer.objects.bulk_create(
            [
                Customer(external_id=f"customer-{n:05d}", currency="USD")
                for n in range(customers)
                if f"customer-{n:05d}" not in existing
            ],
            batch_size=2000,
        )
        ids = dict(Customer.objects.values_list("external_id", "pk"))
        Subscription.objects.bulk_create(
            [
                Subscription(
                    external_id=f"bench-{n:05d}",
                    customer_id=ids[f"customer-{n:05d}"],
                    version=version,
                    status=Subscription.Status.ACTIVE,
                    billing_time="calendar",
                    started_at=PERIOD_START,
                    billing_anchor=PERIOD_START,
                    current_period_start=PERIOD_START,
                    current_period_end=PERIOD_END,
                )
                for n in range(customers)
            ],
            batch_size=2000,
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE plans_subscription")
    return customers


def _reset() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE invoices_invoiceline, invoices_invoiceevent, invoices_invoice, "
            "invoices_billingrun, invoices_invoicenumbersequence RESTART IDENTITY CASCADE"
        )
        cursor.execute(
            "DELETE FROM core_auditlogentry WHERE object_type IN ('invoices.invoice', "
            "'plans.subscription') AND action <> 'subscription.created'"
        )
        cursor.execute(
            "UPDATE plans_subscription SET current_period_start = %s, current_period_end = %s, "
            "status = 'active' WHERE external_id LIKE 'bench-%%'",
            [PERIOD_START, PERIOD_END],
        )


def _timed_run(database: str, args: argparse.Namespace) -> dict[str, Any]:
    from invoices.models import BillingRun, Invoice
    from invoices.tasks import invoices_bill_due_task

    _reset()
    env = common.django_environ(database)
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "billing_site",
            "worker",
            "--concurrency",
            str(args.concurrency),
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ],
        cwd=common.ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        time.sleep(8)  # the worker connects to the broker and starts its processes
        print("Billing run ...", flush=True)
        started = time.monotonic()
        invoices_bill_due_task.delay(BILLED_AT.isoformat())
        deadline = started + args.timeout
        run = None
        while time.monotonic() < deadline:
            run = BillingRun.objects.order_by("-id").first()
            if run is not None and run.status != BillingRun.Status.RUNNING:
                break
            time.sleep(0.2)
        seconds = time.monotonic() - started
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=60)
    invoices = Invoice.objects.filter(period_start=PERIOD_START)
    return {
        "seconds": round(seconds, 2),
        "run_status": run.status if run else None,
        "subscriptions_due": run.subscriptions_due if run else 0,
        "batches": run.batches_total if run else 0,
        "invoices": invoices.count(),
        "finalized": invoices.exclude(number__isnull=True).count(),
        "errors": run.errors_count if run else None,
    }


class _StatementCounter:
    def __init__(self) -> None:
        self.statements = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.statements += 1
        return execute(sql, params, many, context)


def _query_counts(batch: int) -> dict[str, int]:
    from django.db import connection

    from invoices.services import billing_batch_run
    from plans.models import Subscription

    _reset()
    ids = list(
        Subscription.objects.filter(external_id__startswith="bench-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    counts = {}
    offset = 0
    for size in (1, batch, 2 * batch):
        chosen = ids[offset : offset + size]
        offset += size
        counter = _StatementCounter()
        with connection.execute_wrapper(counter):
            billing_batch_run(run_id=None, subscription_ids=chosen, now=BILLED_AT)
        counts[str(size)] = counter.statements
    _reset()
    return counts


def _report(
    args: argparse.Namespace,
    database: str,
    build: dict[str, Any],
    rollup_seconds: float | None,
    subscriptions: int,
    run: dict[str, Any],
    queries: dict[str, int],
) -> None:
    sizes = [int(size) for size in queries]
    per_subscription = (queries[str(sizes[2])] - queries[str(sizes[1])]) / (sizes[2] - sizes[1])
    common.table_print(
        f"Billing run: {subscriptions:,} subscriptions, {args.events:,} events, "
        f"{args.concurrency} worker processes",
        ["what", "figure"],
        [
            ["run (enqueue to done)", f"{run['seconds']} s"],
            ["invoices / finalized", f"{run['invoices']:,} / {run['finalized']:,}"],
            ["batches", run["batches"]],
            ["errors", run["errors"]],
            *[[f"SQL statements, batch of {size}", count] for size, count in queries.items()],
            ["SQL statements per extra subscription", f"{per_subscription:.1f}"],
        ],
    )
    path = common.results_write(
        "billing",
        {
            "args": vars(args),
            "database": database,
            "build": build,
            "rollup_seconds": rollup_seconds,
            "run": run,
            "queries": queries,
            "queries_per_subscription": per_subscription,
            "machine": common.machine(),
        },
    )
    print(f"Results: {path}")


if __name__ == "__main__":
    sys.exit(main())
