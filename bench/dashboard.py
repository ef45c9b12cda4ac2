"""Dashboard benchmark: the admin's landing page rendered on the 10-million-event dataset.

    make bench-dashboard                                   # 10 M events, 10,000 customers
    make bench-dashboard BENCH_ARGS="--events 1000000"     # a quick run on a smaller set

1. Prepares its own database `<configured name>_bench_dashboard` and builds (or reuses) the
   usage benchmark's dataset there: `--events` events over `--customers` customers in January
   2026 (see bench/usage.py). The dashboard reads none of them; they are there to show that.
2. Creates the billing benchmark's plan and one customer + subscription per event customer
   (bench/billing.py), then, by set-based SQL (reused when present): twelve months of period
   invoices per subscription (January to December 2025, issued a few minutes after each period
   ends; December's, issued 2026-01-01, are 70 % paid, 20 % finalized of which a quarter failed
   payment, 10 % draft), six lines each (a base fee and five usage lines counting events), usage
   alerts at 80 % / 100 % for 2 % of the customers, and the per-minute event counts of the last
   24 hours from the events themselves (as ingest would have kept them).
3. With the clock at 2026-01-31 18:00 UTC, renders `GET /admin/` in process (Django's test
   client, a logged-in superuser) `--samples` times after a warm-up, and reports p50/p99 ms and
   the SQL statements per render; the baseline is the same page for a staff user who may view
   nothing (session, user and template, no figures). Then each of the dashboard's reads alone
   (p50 ms), to show where the time goes.

Target: p99 under 300 ms. Figures go to bench/results/dashboard.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import billing as billing_bench  # noqa: E402
from bench import common  # noqa: E402
from bench import usage as usage_bench  # noqa: E402

AT = datetime(2026, 1, 31, 18, 0, tzinfo=UTC)
FIRST_PERIOD = datetime(2025, 1, 1, tzinfo=UTC)
JANUARY = datetime(2026, 1, 1, tzinfo=UTC)
FEBRUARY = datetime(2026, 2, 1, tzinfo=UTC)
MONTHS = 12
TARGET_MS = 300

# One invoice per bench subscription and month of 2025; the last month's statuses spread over
# paid / finalized (a quarter of them with a failed payment) / draft by the subscription id.
_INVOICES_SQL = """
INSERT INTO invoices_invoice
    (customer_id, subscription_id, version_id, kind, status, number, currency, period_start,
     period_end, nominal_period_end, total, issued_at, computed_at, finalize_after,
     finalized_at, due_at, paid_at, payment_status, stripe_payment_intent_id, stripe_error,
     idempotency_digest, created_at, updated_at)
SELECT s.customer_id, s.id, s.version_id, 'period', period.status,
       CASE WHEN period.status = 'draft' THEN NULL ELSE 'BENCH-' || m || '-' || s.id END,
       'USD', period_start, period_end, period_end,
       round((49 + mod(s.id * 7919 + m * 104729, 25000) / 100.0)::numeric, 2),
       period_end + interval '5 minutes', period_end + interval '5 minutes',
       period_end + interval '3 days',
       CASE WHEN period.status = 'draft' THEN NULL ELSE period_end + interval '5 minutes' END,
       period_end + interval '30 days',
       CASE WHEN period.status = 'paid' THEN period_end + interval '2 days' END,
       CASE WHEN period.status = 'paid' THEN 'succeeded'
            WHEN period.status = 'finalized' AND mod(s.id, 40) < 2 THEN 'failed'
            WHEN period.status = 'finalized' THEN 'pending' ELSE '' END,
       '', '', '', period_end, period_end
FROM plans_subscription AS s
CROSS JOIN generate_series(0, %(months)s - 1) AS m
CROSS JOIN LATERAL (
    SELECT %(first)s::timestamptz + make_interval(months => m) AS period_start,
           %(first)s::timestamptz + make_interval(months => m + 1) AS period_end,
           CASE WHEN m < %(months)s - 1 OR mod(s.id, 10) < 7 THEN 'paid'
                WHEN mod(s.id, 10) < 9 THEN 'finalized' ELSE 'draft' END AS status
) AS period
WHERE s.external_id LIKE 'bench-%%'
"""
_LINES_SQL = """
INSERT INTO invoices_invoiceline
    (invoice_id, position, kind, description, quantity, unit_amount, amount_precise, amount,
     breakdown, line_start, line_end, metric_code, group_key, event_count, events_digest)
SELECT i.id, n, CASE WHEN n = 0 THEN 'base_fee' ELSE 'usage' END,
       CASE WHEN n = 0 THEN 'Base fee' ELSE 'Usage ' || n END,
       0, 0, i.total / 6, i.total / 6, '{}', i.period_start, i.period_end, '', '',
       CASE WHEN n = 0 THEN 0 ELSE 100 + mod(i.id * 31 + n * 17, 400) END, ''
FROM invoices_invoice AS i CROSS JOIN generate_series(0, 5) AS n
"""
_ALERTS_SQL = """
INSERT INTO entitlements_usagealert
    (customer_id, subscription_id, feature_id, threshold, window_start, window_end, used,
     allowance, fired_at)
SELECT s.customer_id, s.id, %(feature)s, threshold, %(start)s, %(end)s,
       threshold * 10 + mod(s.id, 7), 1000, %(start)s + interval '20 days'
FROM plans_subscription AS s
CROSS JOIN (VALUES (80), (100)) AS t(threshold)
WHERE s.external_id LIKE 'bench-%%' AND mod(s.id, 50) = 0
  AND (threshold = 80 OR mod(s.id, 100) = 0)
"""
# The per-minute counts ingest keeps, rebuilt from the events received in the 24 hours to AT.
_ACTIVITY_SQL = """
INSERT INTO metering_eventactivitycount (minute, shard, event_count)
SELECT date_trunc('minute', received_at), mod(id, 8), count(*)
FROM metering_event
WHERE received_at > %(since)s AND received_at <= %(at)s
GROUP BY 1, 2
"""


def main() -> int:
    args = _arguments()
    database = common.bench_database_name("bench_dashboard")
    print(f"Database: {database} (next to {common.configured_database()['NAME']})", flush=True)
    common.database_prepare(database)
    common.django_setup(database)

    metrics = usage_bench._metrics_ensure()
    build = usage_bench._dataset_ensure(args.events, args.customers)
    _invoices_clear_if_resized(args.customers)
    billing_bench._subscriptions_ensure(metrics[:5], args.customers)
    seeded = _figures_ensure(metrics[0])
    baseline = _measure(args, superuser=False)
    dashboard = _measure(args, superuser=True)
    parts = _measure_parts(args)
    _report(args, database, build, seeded, dashboard, baseline, parts)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000, help="(default 10,000,000)")
    parser.add_argument("--customers", type=int, default=10_000, help="(default 10,000)")
    parser.add_argument("--samples", type=int, default=200, help="timed renders (default 200)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed renders first")
    return parser.parse_args()


def _invoices_clear_if_resized(customers: int) -> None:
    """The subscriptions are rebuilt for another customer count, and invoices protect them."""
    from django.db import connection

    from plans.models import Subscription

    if Subscription.objects.filter(external_id__startswith="bench-").count() != customers:
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE invoices_invoiceline, invoices_invoiceevent, invoices_invoice,"
                " entitlements_usagealert RESTART IDENTITY CASCADE"
            )


def _figures_ensure(calls_metric: Any) -> dict[str, int]:
    """Invoices, lines, usage alerts and per-minute counts (reused when the invoice count
    matches the subscriptions)."""
    from django.db import connection, transaction

    from entitlements.models import UsageAlert
    from invoices.models import Invoice, InvoiceLine
    from metering.models import EventActivityCount
    from plans.models import Feature, Subscription
    from plans.services import feature_create

    subscriptions = Subscription.objects.filter(external_id__startswith="bench-").count()
    if Invoice.objects.count() != subscriptions * MONTHS:
        print(f"Creating {subscriptions * MONTHS:,} invoices and their lines ...", flush=True)
        feature = Feature.objects.filter(slug="bench-calls-limit").first() or feature_create(
            slug="bench-calls-limit", name="Bench calls limit", kind="metered", metric=calls_metric
        )
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE invoices_invoiceline, invoices_invoiceevent, invoices_invoice,"
                " entitlements_usagealert, metering_eventactivitycount RESTART IDENTITY CASCADE"
            )
            cursor.execute(_INVOICES_SQL, {"months": MONTHS, "first": FIRST_PERIOD})
            cursor.execute(_LINES_SQL)
            cursor.execute(
                _ALERTS_SQL,
                {"feature": feature.pk, "start": JANUARY, "end": FEBRUARY},
            )
            cursor.execute(_ACTIVITY_SQL, {"since": AT - timedelta(hours=24), "at": AT})
        with connection.cursor() as cursor:
            for table in (
                "invoices_invoice",
                "invoices_invoiceline",
                "entitlements_usagealert",
                "metering_eventactivitycount",
            ):
                cursor.execute(f"VACUUM ANALYZE {table}")
    return {
        "invoices": Invoice.objects.count(),
        "invoice_lines": InvoiceLine.objects.count(),
        "usage_alerts": UsageAlert.objects.count(),
        "activity_rows": EventActivityCount.objects.count(),
    }


def _measure(args: argparse.Namespace, *, superuser: bool) -> dict[str, Any]:
    import time_machine
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    users = get_user_model()
    username = "bench-admin" if superuser else "bench-staff"
    user = users.objects.filter(username=username).first()
    if user is None:
        user = users.objects.create_user(
            username, password="bench", is_staff=True, is_superuser=superuser
        )
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    timings: list[float] = []
    # Static URLs without `collectstatic`'s manifest (the page links them; it serves none).
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with time_machine.travel(AT, tick=False), override_settings(STORAGES=storages):
        for _ in range(args.warmup):
            _render(client)
        for _ in range(args.samples):
            started = time.perf_counter()
            _render(client)
            timings.append((time.perf_counter() - started) * 1000)
        with CaptureQueriesContext(connection) as queries:
            _render(client)
    return {
        "p50_ms": round(common.percentile(timings, 0.50), 1),
        "p99_ms": round(common.percentile(timings, 0.99), 1),
        "max_ms": round(max(timings), 1),
        "queries": len(queries),
    }


def _measure_parts(args: argparse.Namespace) -> dict[str, float]:
    """p50 ms of each selector alone (a fifth of the samples each), to show where the time
    goes."""
    from dashboard import selectors

    parts = {
        "revenue this month": lambda: selectors.revenue_this_month(at=AT),
        "MRR, 14 months": lambda: selectors.mrr_by_month(at=AT),
        "top customers by amount": lambda: selectors.top_customers_by_amount(at=AT),
        "top customers by usage": lambda: selectors.top_customers_by_usage(at=AT),
        "drafts waiting": lambda: selectors.invoices_waiting_to_finalize(at=AT),
        "failed payments": selectors.payments_failed,
        "events per minute": lambda: selectors.events_per_minute(at=AT),
        "customers near limits": lambda: selectors.customers_near_limits(at=AT),
    }
    samples = max(args.samples // 5, 1)
    medians = {}
    for name, read in parts.items():
        read()
        timings = []
        for _ in range(samples):
            started = time.perf_counter()
            read()
            timings.append((time.perf_counter() - started) * 1000)
        medians[name] = round(common.percentile(timings, 0.50), 1)
    return medians


def _render(client: Any) -> None:
    response = client.get("/admin/")
    if response.status_code != 200:
        raise SystemExit(f"GET /admin/ answered {response.status_code}")


def _report(
    args: argparse.Namespace,
    database: str,
    build: dict[str, Any],
    seeded: dict[str, int],
    dashboard: dict[str, Any],
    baseline: dict[str, Any],
    parts: dict[str, float],
) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    print(
        f"\nDashboard, PostgreSQL {version}; {args.events:,} events, {seeded['invoices']:,}"
        f" invoices ({seeded['invoice_lines']:,} lines), {seeded['usage_alerts']:,} usage alerts,"
        f" {seeded['activity_rows']:,} per-minute count rows; {args.samples} renders"
    )
    common.table_print(
        "GET /admin/ in process",
        ["page", "p50 ms", "p99 ms", "max ms", "SQL statements"],
        [
            [
                "dashboard (superuser: every figure)",
                dashboard["p50_ms"],
                dashboard["p99_ms"],
                dashboard["max_ms"],
                dashboard["queries"],
            ],
            [
                "baseline: staff who may view nothing",
                baseline["p50_ms"],
                baseline["p99_ms"],
                baseline["max_ms"],
                baseline["queries"],
            ],
        ],
    )
    common.table_print(
        "Each read alone", ["selector", "p50 ms"], [[name, ms] for name, ms in parts.items()]
    )
    verdict = "met" if dashboard["p99_ms"] < TARGET_MS else "NOT met"
    print(f"\nTarget p99 < {TARGET_MS} ms: {verdict}.")
    print(common.machine_line())
    path = common.results_write(
        "dashboard",
        {
            "database": database,
            "events": args.events,
            "customers": args.customers,
            "dataset": build,
            "seeded": seeded,
            "samples": args.samples,
            "dashboard": dashboard,
            "baseline": baseline,
            "parts_p50_ms": parts,
            "target_p99_ms": TARGET_MS,
        },
    )
    print(f"Results: {path}")


if __name__ == "__main__":
    sys.exit(main())
