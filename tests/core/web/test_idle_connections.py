"""The web server of `make run` keeps serving while browsers hold idle connections open."""

import http.cookiejar
import os
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator

import pytest
from django.db import connection

from billing_site.run import ROOT, web_command

# Chromium opens up to six connections per host, some ahead of use.
IDLE_CONNECTIONS = 6
IDLE_SECONDS = 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def web_server(transactional_db) -> Iterator[str]:
    port = str(_free_port())
    settings = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "billing_site.settings.test",
        "DATABASE_URL": f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}"
        f"/{settings['NAME']}",
        "WEB_CONCURRENCY": "2",
    }
    server = subprocess.Popen(
        web_command("127.0.0.1", port),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/admin/login/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_admin_pages_load_while_idle_connections_are_held_open(web_server, django_user_model):
    # given: an operator, and more idle connections than the server has workers (as Chromium
    # opens them ahead of use)
    django_user_model.objects.create_superuser("operator", "op@example.com", "correct horse")
    port = int(web_server.rsplit(":", 1)[1])
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(IDLE_CONNECTIONS)]
    time.sleep(IDLE_SECONDS)
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    try:
        # when: the operator logs in and opens admin pages
        started = time.monotonic()
        login = opener.open(f"{web_server}/admin/login/", timeout=10).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login)[1]
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": "operator", "password": "correct horse"}
        ).encode()
        request = urllib.request.Request(
            f"{web_server}/admin/login/?next=/admin/", data=form, headers={"Referer": web_server}
        )
        index = opener.open(request, timeout=10)
        pages = [
            opener.open(f"{web_server}{path}", timeout=10)
            for path in ("/admin/metering/event/", "/admin/plans/customer/", "/admin/")
        ]
        elapsed = time.monotonic() - started
    finally:
        for sock in idle:
            sock.close()

    # then: every page answered at once, none waited for an idle connection to time out
    assert index.status == 200
    assert index.url.endswith("/admin/")
    assert [page.status for page in pages] == [200, 200, 200]
    assert elapsed < 10
