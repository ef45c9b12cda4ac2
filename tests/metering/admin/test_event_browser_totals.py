import csv
import io
from decimal import Decimal

import pytest

from metering.admin import events as events_admin

pytestmark = pytest.mark.django_db

URL = "/admin/metering/event/"
EXPORT_URL = "/admin/metering/event/export.csv"


@pytest.fixture
def tokens(make_metric, make_events):
    # 2026-03-01 00:00:00 onwards, one event a second: 100 for acme, 50 for globex
    make_metric("llm_tokens", aggregation="sum", field_name="tokens")
    make_events(
        150, code="llm_tokens", customers=("acme", "acme", "globex"), properties={"tokens": 7}
    )


def test_customer_and_metric_show_the_usage_total_of_the_selected_days(admin_client, tokens):
    # when
    response = admin_client.get(
        URL, {"q": "acme", "code": "llm_tokens", "from": "2026-03-01", "to": "2026-03-01"}
    )
    # then: 100 acme events of 7 tokens, totalled by the usage selector
    total = response.context["usage_total"]
    assert (total["quantity"], total["event_count"]) == (Decimal("700"), 100)
    assert "700" in response.content.decode()


def test_without_a_customer_the_browser_says_how_to_get_a_total(admin_client, tokens):
    response = admin_client.get(URL, {"code": "llm_tokens"})
    assert response.context["usage_total"] is None
    assert "Search a customer id and pick a metric" in response.content.decode()


def test_a_custom_day_range_narrows_the_list(admin_client, tokens):
    inside = admin_client.get(URL, {"q": "globex", "from": "2026-03-01", "to": "2026-03-01"})
    outside = admin_client.get(URL, {"q": "globex", "from": "2026-03-02", "to": "2026-03-31"})
    assert len(inside.context["cl"].result_list) == 50
    assert len(outside.context["cl"].result_list) == 0


def test_an_invalid_day_is_ignored_not_an_error(admin_client, tokens):
    response = admin_client.get(URL, {"q": "globex", "from": "2026-02-30", "to": "0001-01-01"})
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 50


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_export_streams_the_filtered_selection_as_csv(admin_client, tokens):
    # when
    response = admin_client.get(EXPORT_URL, {"q": "globex", "code": "llm_tokens"})
    # then
    assert response["Content-Type"].startswith("text/csv")
    rows = _csv(response)
    assert rows[0] == [
        "timestamp",
        "customer_id",
        "code",
        "transaction_id",
        "subscription_id",
        "member_id",
        "properties",
    ]
    assert len(rows) == 1 + 50
    assert {row[1] for row in rows[1:]} == {"globex"}
    assert rows[1][6] == '{"tokens": 7}'


def test_export_is_bounded(admin_client, tokens, monkeypatch):
    monkeypatch.setattr(events_admin, "EXPORT_LIMIT", 10)
    rows = _csv(admin_client.get(EXPORT_URL))
    assert len(rows) == 1 + 10


def test_an_event_page_links_to_its_customer_and_metric(admin_client, tokens):
    from metering.models import BillableMetric, Event

    event = Event.objects.filter(customer_id="acme").first()
    response = admin_client.get(f"{URL}{event.pk}/change/")
    body = response.content.decode()
    metric = BillableMetric.objects.get(code="llm_tokens")
    assert f"/admin/metering/billablemetric/{metric.pk}/change/" in body
    assert "/admin/plans/customer/?q=acme" in body
    assert "/admin/metering/event/?q=acme" in body
