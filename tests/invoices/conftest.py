import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker

from billing_site.celery import app

WEBHOOK_SECRET = "whsec_test_suite_only"


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    """A real localstripe process for the session, on 127.0.0.1 and a free port."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("localstripe_server.py"))],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = int(process.stdout.readline().strip())
        deadline = time.monotonic() + 20
        while True:  # the port is bound before the server accepts: wait until it answers
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def stripe_on(settings, localstripe_url: str) -> str:
    """Stripe configured and pointed at localstripe, its data flushed."""
    request = urllib.request.Request(f"{localstripe_url}/_config/data", method="DELETE")
    urllib.request.urlopen(request, timeout=10).close()
    settings.STRIPE_SECRET_KEY = "sk_test_suite_only"
    settings.STRIPE_API_BASE = localstripe_url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return localstripe_url


@pytest.fixture
def worker() -> Iterator[None]:
    """A real Celery worker on the configured broker, in this process, for the test."""
    app.control.purge()
    with start_worker(app, perform_ping_check=False, shutdown_timeout=30):
        yield
