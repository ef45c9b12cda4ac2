"""What both benchmarks share: their own database next to the configured one, Django set up on
it, percentiles, the printed table and the JSON results.

The configured database is DATABASE_URL's, else the embedded server's default (`make bench-*`
starts it). A benchmark never touches that database: it creates `<name>_<suffix>` beside it on the
same server (e.g. `billing_bench_ingest`), migrates it, and keeps it for the next run.
"""

from __future__ import annotations

import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from billing_site import embedded  # noqa: E402

SETTINGS_MODULE = "bench.settings"


def configured_database() -> dict[str, Any]:
    """The configured database as Django's DATABASES entry (NAME, HOST, PORT, USER, PASSWORD)."""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        import environ

        return environ.Env.db_url_config(url)
    return embedded.django_database()


def bench_database_name(suffix: str) -> str:
    return f"{configured_database()['NAME']}_{suffix}"


def conninfo(database: str) -> str:
    config = configured_database()
    params = {
        "dbname": database,
        "host": config.get("HOST") or None,
        "port": str(config["PORT"]) if config.get("PORT") else None,
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
    }
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v})


def connect(database: str, **kwargs: Any) -> psycopg.Connection:
    return psycopg.connect(conninfo(database), **kwargs)


def database_prepare(database: str, *, synchronous_commit: str = "off") -> None:
    """Create the bench database if missing and bring its schema up to date (migrate)."""
    try:
        admin = connect("postgres", autocommit=True)
    except psycopg.OperationalError as exc:
        sys.exit(
            f"Cannot reach PostgreSQL ({exc}).\nSet DATABASE_URL, or run through `make` "
            "(which starts the embedded server)."
        )
    with admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [database]
        ).fetchone()
        if not exists:
            print(f"Creating database {database} ...", flush=True)
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        # Like the embedded server's configuration (billing_site/embedded.py): a commit does
        # not wait for its WAL flush. Set per database, so other databases are unaffected.
        admin.execute(
            sql.SQL("ALTER DATABASE {} SET synchronous_commit = {}").format(
                sql.Identifier(database), sql.Literal(synchronous_commit)
            )
        )
    manage = [sys.executable, str(ROOT / "manage.py")]
    env = django_environ(database)
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], check=True, cwd=ROOT, env=env)
    subprocess.run([*manage, "createcachetable", "-v", "0"], check=True, cwd=ROOT, env=env)


def django_environ(database: str) -> dict[str, str]:
    """The environment of a Django process (manage.py, gunicorn) on the bench database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "BENCH_DATABASE_NAME": database,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }


def django_setup(database: str) -> None:
    os.environ.update({"DJANGO_SETTINGS_MODULE": SETTINGS_MODULE, "BENCH_DATABASE_NAME": database})
    import django

    django.setup()


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 1,000 values is the 990th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = math.ceil(fraction * len(ordered) - 1e-9)
    return ordered[min(max(rank, 1), len(ordered)) - 1]


def machine() -> dict[str, Any]:
    memory_gib = None
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(meminfo.readline().split()[1])
            memory_gib = round(kib / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpus": os.cpu_count(),
        "memory_gib": memory_gib,
        # Other work on the machine skews the figures: the 1-minute load average at the end.
        "load_average_1m": round(os.getloadavg()[0], 2),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def machine_line() -> str:
    facts = machine()
    return (
        f"Machine: {facts['cpus']} CPUs, {facts['memory_gib']} GiB; 1-minute load average now "
        f"{facts['load_average_1m']} (work of others on the machine skews the figures)"
    )


def server_version(connection: psycopg.Connection) -> str:
    return connection.execute("SHOW server_version").fetchone()[0]


def table_print(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        first, *rest = row
        return "  ".join(
            [first.ljust(widths[0]), *(v.rjust(w) for v, w in zip(rest, widths[1:], strict=True))]
        )

    print(f"\n{title}")
    print(line(cells[0]))
    print("  ".join("-" * w for w in widths))
    for row in cells[1:]:
        print(line(row))


def _cell(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "—"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return "—" if value is None else str(value)


def results_write(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    document = {
        "benchmark": name,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **payload,
    }
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
