"""Every API request's first statement (the API key's) checks the kept database connection in
place of Django's health check: a connection the server closed is opened again, and no request
spends a ``SELECT 1`` round trip on it."""

import json
from decimal import Decimal

import psycopg
import pytest
from django.core import signals
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.entitlements.factories import subscribe

pytestmark = pytest.mark.django_db(transaction=True)


def _new_request() -> None:
    """What a real server does before each request (Django's test client leaves it out): a kept
    connection is checked again on its next use."""
    signals.request_started.send(sender=None)


def _terminate_our_backend() -> None:
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(
        **{k: v for k, v in params.items() if k not in {"cursor_factory", "context"}},
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", (pid,))


def test_a_connection_the_server_closed_between_requests_is_opened_again(authed_client):
    # given: a subscribed customer and a worker's connection kept from an earlier request
    subscribe(limit=Decimal(10))
    assert authed_client.get("/api/v1/customers/acme/entitlements/api-calls").status_code == 200
    kept = connection.connection.info.backend_pid
    # when: the server ends that connection (a restart, a pooler, an idle timeout) and the
    # next request comes
    _terminate_our_backend()
    _new_request()
    response = authed_client.get("/api/v1/customers/acme/entitlements/api-calls")
    # then: answered on a new connection
    assert response.status_code == 200
    assert response.json()["allowed"] is True
    assert connection.connection.info.backend_pid != kept


def test_a_consume_spends_no_round_trip_on_a_health_check(authed_client, monkeypatch):
    # given: a subscribed customer and a kept connection (Django's health checks are on)
    subscribe(limit=Decimal(10))
    path = "/api/v1/customers/acme/entitlements/api-calls/consume"
    body = {"transaction_id": "first", "quantity": 1}
    authed_client.post(path, data=json.dumps(body), content_type="application/json")
    assert connection.health_check_enabled
    checks = []
    is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or is_usable())
    # when: the next request, as a server runs it
    _new_request()
    with CaptureQueriesContext(connection) as captured:
        response = authed_client.post(
            path,
            data=json.dumps({"transaction_id": "second", "quantity": 1}),
            content_type="application/json",
        )
    # then: Django's check (a SELECT 1) never ran; the key's statement came first
    assert response.status_code == 200
    assert checks == []
    assert "core_apikey" in captured.captured_queries[0]["sql"]


def test_a_bad_statement_is_not_retried_on_a_new_connection():
    # given: a working connection
    from billing_site.core.sql import prepared_fetchone

    prepared_fetchone("SELECT 1 AS one", {})
    pid = connection.connection.info.backend_pid
    _new_request()
    # when: a statement fails for its own reasons
    with pytest.raises(Exception, match="division by zero"):
        prepared_fetchone("SELECT 1 / 0", {})
    # then: the connection was kept (it was not the connection that failed)
    assert connection.connection.info.backend_pid == pid
