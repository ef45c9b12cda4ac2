from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from billing_site.core.models import ApiRequestLog
from billing_site.core.services import api_request_log_prune
from billing_site.core.tasks import api_request_log_prune_task

pytestmark = pytest.mark.django_db


def test_a_request_is_logged_with_its_key_path_status_and_latency(api_client, make_api_key):
    # given
    key, raw = make_api_key(name="checkout service")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    # when
    response = api_client.get("/api/v1/customers?limit=5")
    # then
    assert response.status_code == 200
    entry = ApiRequestLog.objects.get()
    assert entry.api_key == key
    assert (entry.method, entry.path, entry.query) == ("GET", "/api/v1/customers", "limit=5")
    assert entry.status_code == 200
    assert entry.duration_us > 0
    assert entry.error_code == ""
    assert entry.error_body is None


def test_a_refused_request_keeps_its_error_body_but_never_the_payload(authed_client):
    # given: an event batch whose one event carries a value nobody should find in the log
    body = {"events": [{"transaction_id": "t1", "properties": {"card": "4242424242424242"}}]}
    # when
    response = authed_client.post("/api/v1/customers", {"name": 7}, format="json")
    authed_client.post("/api/v1/events/batch", body, format="json")
    # then
    assert response.status_code == 400
    refused = ApiRequestLog.objects.get(path="/api/v1/customers")
    assert refused.status_code == 400
    assert refused.error_code == response.json()["error"]["code"]
    assert refused.error_body == response.json()
    stored = list(ApiRequestLog.objects.values_list("path", "query", "error_body"))
    assert "4242424242424242" not in repr(stored)


def test_a_request_without_a_valid_key_is_logged_without_one(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer bk_nope_nope")
    response = api_client.get("/api/v1/customers")
    entry = ApiRequestLog.objects.get()
    assert response.status_code == 401
    assert entry.api_key is None
    assert entry.status_code == 401
    assert entry.error_code == response.json()["error"]["code"]


def test_only_api_requests_are_logged(client):
    client.get("/healthz")
    client.get("/admin/login/")
    client.get("/api/schema/")
    assert ApiRequestLog.objects.count() == 0


def test_a_nul_in_the_path_is_logged_not_lost(authed_client):
    response = authed_client.get("/api/v1/customers/a%00b")
    entry = ApiRequestLog.objects.get()
    assert entry.status_code == response.status_code
    assert entry.path == "/api/v1/customers/a\ufffdb"


def _entry(age_days: int) -> ApiRequestLog:
    return ApiRequestLog.objects.create(
        created_at=timezone.now() - timedelta(days=age_days),
        method="GET",
        path="/api/v1/customers",
        status_code=200,
        duration_us=900,
    )


def test_pruning_deletes_only_rows_past_the_retention_and_can_run_twice():
    # given
    old, kept = _entry(40), _entry(5)
    # when
    first = api_request_log_prune(retention_days=30, batch_size=1)
    second = api_request_log_prune(retention_days=30)
    # then
    assert (first, second) == (1, 0)
    assert list(ApiRequestLog.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not ApiRequestLog.objects.filter(pk=old.pk).exists()


def test_the_beat_task_prunes_by_the_configured_retention(settings):
    settings.API_LOG_RETENTION_DAYS = 3
    _entry(4), _entry(1)
    assert api_request_log_prune_task() == 1
    assert ApiRequestLog.objects.count() == 1


def test_admin_lists_requests_by_outcome_and_path(admin_client, authed_client):
    # given
    authed_client.get("/api/v1/customers")
    authed_client.get("/api/v1/customers/nobody")
    url = reverse("admin:core_apirequestlog_changelist")
    # when
    refused = admin_client.get(url, {"outcome": "client_error"})
    by_path = admin_client.get(url, {"q": "/api/v1/customers/"})
    # then
    assert [e.status_code for e in refused.context["cl"].result_list] == [404]
    assert [e.path for e in by_path.context["cl"].result_list] == ["/api/v1/customers/nobody"]
    detail = admin_client.get(
        reverse("admin:core_apirequestlog_change", args=[refused.context["cl"].result_list[0].pk])
    )
    assert detail.status_code == 200
    assert "not_found" in detail.content.decode()


@pytest.fixture
def log_middleware():
    """The middleware around a view that answers 200, closed as a WSGI server closes it (without
    Django's request_finished closing the test's database connection, as the test client does)."""
    from django.core import signals
    from django.db import close_old_connections
    from django.http import JsonResponse

    from billing_site.core.request_log import ApiRequestLogMiddleware

    signals.request_finished.disconnect(close_old_connections)
    yield ApiRequestLogMiddleware(lambda request: JsonResponse({"ok": True}))
    signals.request_finished.connect(close_old_connections)


def test_the_row_is_written_once_the_answer_is_sent(rf, log_middleware):
    # when: the middleware answers, and the server closes the response after sending it
    response = log_middleware(rf.get("/api/v1/whoami"))
    written_before_close = ApiRequestLog.objects.count()
    response.close()
    # then: the row came after the answer, not before it
    assert (written_before_close, ApiRequestLog.objects.count()) == (0, 1)
    assert ApiRequestLog.objects.get().path == "/api/v1/whoami"


@pytest.mark.django_db(transaction=True)
def test_a_row_that_cannot_be_written_is_a_warning_not_an_error(rf, log_middleware, caplog):
    # given: an answer whose row PostgreSQL refuses (a status beyond its column)
    response = log_middleware(rf.get("/api/v1/whoami"))
    response.status_code = 2**40
    # when: the server closes it
    response.close()
    # then: nothing written, nothing raised, and the operator is told
    assert ApiRequestLog.objects.count() == 0
    assert "api request log not written" in caplog.text
