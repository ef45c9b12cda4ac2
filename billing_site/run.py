"""`make run`: the whole dashboard in the foreground on embedded defaults.

Starts the embedded PostgreSQL when no DATABASE_URL is given, prepares the database (migrate,
cache table, static files, demo data, operator login), then runs the web server (gunicorn), a
Celery worker and Celery beat together. Ctrl-C (or SIGTERM) stops all of them, and the embedded
database if this command started it; nothing is left running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from billing_site import embedded

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, cwd=ROOT)


def _prepare(host: str, port: str) -> None:
    if os.environ.get("CELERY_BROKER_URL", "filesystem://").startswith("filesystem://"):
        for folder in ("queue", "processed", "control"):
            (ROOT / ".data" / "broker" / folder).mkdir(parents=True, exist_ok=True)
    _manage("migrate", "--noinput", "-v", "0")
    if not os.environ.get("REDIS_URL"):
        _manage("createcachetable")
    _manage("collectstatic", "--noinput", "-v", "0")
    _manage("setup_periodic_tasks")
    _manage("load_demo")
    _manage("ensure_operator", "--url", f"http://{host}:{port}/admin/")


def web_command(host: str, port: str) -> list[str]:
    """gunicorn with threaded workers: a browser opens connections ahead of use and leaves them
    idle; a sync worker would sit on each until its timeout (30 s) while real requests queue,
    and then be killed mid-request. A gthread worker parks idle connections in its poller and
    serves the ready ones on its threads."""
    return [
        str(BIN / "gunicorn"),
        "billing_site.wsgi",
        "--bind",
        f"{host}:{port}",
        "--workers",
        os.environ.get("WEB_CONCURRENCY", "2"),
        "--worker-class",
        "gthread",
        "--threads",
        os.environ.get("WEB_THREADS", "4"),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
    ]


def _processes(host: str, port: str) -> dict[str, list[str]]:
    return {
        "web": web_command(host, port),
        "worker": [
            str(BIN / "celery"),
            "-A",
            "billing_site",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            os.environ.get("CELERY_CONCURRENCY", "2"),
        ],
        "beat": [
            str(BIN / "celery"),
            "-A",
            "billing_site",
            "beat",
            "--loglevel",
            "INFO",
            "--pidfile=",
            "--schedule",
            str(ROOT / ".data" / "celerybeat-schedule"),
        ],
    }


def _stop(children: dict[str, subprocess.Popen], timeout: float = 15.0) -> None:
    # SIGTERM to each leader only: gunicorn and celery shut their own workers down gracefully.
    for process in children.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + timeout
    for process in children.values():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    for process in children.values():
        try:  # anything a leader left behind in its group
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def main() -> int:
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "8000")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_site.settings.local")
    started_database = False
    if not os.environ.get("DATABASE_URL"):
        started_database = not embedded.is_running()
        embedded.start()

    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    for signum in STOP_SIGNALS:
        signal.signal(signum, request_stop)

    children: dict[str, subprocess.Popen] = {}
    exit_code = 0
    try:
        _prepare(host, port)
        for name, command in _processes(host, port).items():
            # Each child leads its own process group, so stopping it reaches its own children
            # (gunicorn and celery workers) too.
            children[name] = subprocess.Popen(command, cwd=ROOT, start_new_session=True)
        print(f"Dashboard: http://{host}:{port}/admin/  (Ctrl-C stops everything)", flush=True)
        while not stopping:
            for name, process in children.items():
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; stopping.", flush=True)
                    exit_code = process.returncode or 1
                    stopping = True
            time.sleep(0.5)
    except subprocess.CalledProcessError as exc:
        print(f"Preparing failed: {exc}", file=sys.stderr)
        exit_code = 1
    finally:
        _stop(children)
        if started_database:
            embedded.stop()
    print("Stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
