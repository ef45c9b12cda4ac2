import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from metering.admin import CappedCountPaginator
from metering.models import Event

pytestmark = pytest.mark.django_db

URL = "/admin/metering/event/"
UNBOUNDED_COUNT = re.compile(r'SELECT COUNT\(\*\) AS "__count" FROM "metering_event"\s*$')


def _event_counts(captured: CaptureQueriesContext) -> list[str]:
    # The usage total of one named customer (the usage selector, on its index) is not a count of
    # the table; every other COUNT must be the capped one.
    return [
        q["sql"]
        for q in captured.captured_queries
        if "COUNT(" in q["sql"].upper() and "customer_id = ANY(" not in q["sql"]
    ]


@pytest.fixture
def many_events(make_metric, make_events) -> None:
    make_metric("api_calls")
    make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    make_events(3000, code="api_calls", customers=("acme", "globex", "initech"))
    make_events(1000, code="llm_tokens", customers=("acme",), properties={"tokens": 7})


@pytest.mark.parametrize(
    ("_case", "params"),
    [
        ("unfiltered", {}),
        ("one customer", {"q": "acme"}),
        ("one metric", {"code": "llm_tokens"}),
        ("recent", {"within": "7d"}),
        ("customer and metric", {"q": "acme", "code": "api_calls"}),
        ("page 7", {"p": "7"}),
    ],
)
def test_browser_runs_a_bounded_number_of_queries_and_never_counts_the_whole_table(
    admin_client, many_events, django_assert_max_num_queries, _case, params
):
    # when
    with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as captured:
        response = admin_client.get(URL, params)
    # then
    assert response.status_code == 200
    counts = _event_counts(captured)
    assert counts, "the page shows a count"
    for sql in counts:
        assert not UNBOUNDED_COUNT.search(sql), sql
        assert "LIMIT 10001" in sql, sql


def test_unfiltered_list_is_newest_first_by_id(admin_client, many_events):
    # when
    response = admin_client.get(URL)
    # then
    rows = response.context["cl"].result_list
    ids = [event.id for event in rows]
    assert ids == sorted(ids, reverse=True)
    assert ids[0] == Event.objects.order_by("-id").first().id
    assert len(ids) == 50


def test_customer_search_is_exact_and_orders_by_event_time(admin_client, make_metric, make_events):
    # given: events inserted out of time order, and a customer whose id contains "acme"
    make_metric("api_calls")
    now = timezone.now()
    make_events(5, customers=("acme",), start=now - timedelta(days=1))
    make_events(5, customers=("acme",), start=now - timedelta(days=3))
    make_events(5, customers=("acme-labs", "ACME"), start=now - timedelta(days=2))
    # when
    response = admin_client.get(URL, {"q": "acme"})
    # then
    rows = list(response.context["cl"].result_list)
    assert {event.customer_id for event in rows} == {"acme"}
    assert len(rows) == 10
    timestamps = [event.timestamp for event in rows]
    assert timestamps == sorted(timestamps, reverse=True)


def test_metric_filter_offers_the_catalog_codes_and_narrows_the_list(
    admin_client, many_events, make_metric
):
    # given: a metric without events is offered too (codes come from the catalog)
    make_metric("seats", aggregation="max", field_name="seats")
    # when
    page = admin_client.get(URL).content.decode()
    filtered = admin_client.get(URL, {"code": "llm_tokens"})
    # then
    for code in ("api_calls", "llm_tokens", "seats"):
        assert f"?code={code}" in page
    assert {event.code for event in filtered.context["cl"].result_list} == {"llm_tokens"}
    assert "1,000 events" in filtered.content.decode()


def test_time_window_filter_keeps_recent_events(admin_client, make_metric, make_events):
    # given
    make_metric("api_calls")
    now = timezone.now()
    make_events(3, start=now - timedelta(hours=2))
    make_events(4, start=now - timedelta(days=3))
    make_events(5, start=now - timedelta(days=20))
    # when
    counts = {
        window: admin_client.get(URL, {"within": window}).context["cl"].result_count
        for window in ("24h", "7d", "30d")
    }
    # then
    assert counts == {"24h": 3, "7d": 7, "30d": 12}


def test_beyond_the_cap_the_count_reads_as_an_estimate_or_a_floor(
    admin_client, many_events, monkeypatch
):
    # given: a cap below the table size, and fresh planner statistics
    monkeypatch.setattr(CappedCountPaginator, "cap", 1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE metering_event")
    # when
    unfiltered = admin_client.get(URL).content.decode()
    filtered = admin_client.get(URL, {"q": "acme"}).content.decode()
    # then
    assert "about 4,000 events" in unfiltered
    assert "more than 1,000 events" in filtered
    assert "more than 1,000 results" in filtered


def test_detail_shows_properties_as_indented_json(admin_client, make_metric, make_events):
    # given
    make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    (event,) = make_events(1, code="llm_tokens", properties={"tokens": 1500, "model": "gpt-4o"})
    # when
    response = admin_client.get(f"{URL}{event.pk}/change/")
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "{\n  &quot;model&quot;: &quot;gpt-4o&quot;,\n  &quot;tokens&quot;: 1500\n}" in page
    assert 'name="_save"' not in page


def test_events_cannot_be_added_changed_or_deleted(admin_client, make_metric, make_events):
    # given
    make_metric("api_calls")
    (event,) = make_events(1)
    # when
    add = admin_client.get(f"{URL}add/")
    change = admin_client.post(f"{URL}{event.pk}/change/", {"customer_id": "hooli"})
    delete = admin_client.post(f"{URL}{event.pk}/delete/", {"post": "yes"})
    # then
    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    event.refresh_from_db()
    assert event.customer_id == "acme"
