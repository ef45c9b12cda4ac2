import re

import pytest

from billing_site.core.models import AuditLogEntry
from metering.models import Aggregation, BillableMetric, Rounding

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/metering/billablemetric/add/"


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "code": "llm_tokens",
        "name": "LLM tokens",
        "description": "",
        "aggregation": "sum",
        "field_name": "tokens",
        "filters": "{}",
        "weights": "",
        "weighted_sum_mode": "level",
        "rounding": "none",
        "rounding_precision": "0",
    }
    return {**data, **overrides}


def _errors_of(page: str, field: str) -> str:
    """The error list rendered in the form row of `field`."""
    match = re.search(rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>', page, re.S)
    assert match, f"no errors shown for {field}"
    return match.group(1)


def test_changelist_summarises_filters_and_rounding(admin_client, make_metric):
    # given
    make_metric(
        "gpt_tokens",
        aggregation=Aggregation.SUM,
        field_name="tokens",
        filters={"model": ["gpt-4o", "gpt-4o-mini"]},
        rounding=Rounding.CEIL,
        rounding_precision=2,
    )
    make_metric("api_calls")
    # when
    response = admin_client.get("/admin/metering/billablemetric/")
    # then
    page = response.content.decode()
    assert response.status_code == 200
    assert "model ∈ gpt-4o, gpt-4o-mini" in page
    assert "ceil to 2 decimal places" in page
    assert "2 billable metrics" in page


def test_search_and_aggregation_filter_narrow_the_list(admin_client, make_metric):
    # given
    make_metric("api_calls")
    make_metric("llm_tokens", aggregation=Aggregation.SUM, field_name="tokens")
    # when
    by_search = admin_client.get("/admin/metering/billablemetric/", {"q": "tokens"})
    by_filter = admin_client.get("/admin/metering/billablemetric/", {"aggregation": "count"})
    # then
    assert "1 billable metric" in by_search.content.decode()
    assert "/change/" in by_search.content.decode()
    assert ">llm_tokens<" in by_search.content.decode()
    assert ">api_calls<" in by_filter.content.decode()
    assert ">llm_tokens<" not in by_filter.content.decode()


def test_adding_a_metric_through_the_form_stores_it(admin_client):
    # when
    response = admin_client.post(
        ADD_URL,
        _form(filters='{"model": ["gpt-4o"]}', rounding="round", rounding_precision="2"),
    )
    # then
    assert response.status_code == 302
    metric = BillableMetric.objects.get(code="llm_tokens")
    assert (metric.aggregation, metric.field_name) == ("sum", "tokens")
    assert metric.filters == {"model": ["gpt-4o"]}
    assert (metric.rounding, metric.rounding_precision) == ("round", 2)
    entry = AuditLogEntry.objects.get(action="billable_metric.created")
    assert (entry.object_id, entry.actor_label) == (str(metric.pk), "admin")


def test_the_form_sets_recurring_and_the_weighted_sum_mode(admin_client):
    # when a recurring gauge of changes, rounded to hundreds, is added
    response = admin_client.post(
        ADD_URL,
        _form(
            code="storage_changes",
            aggregation="weighted_sum",
            field_name="gb",
            recurring="on",
            weighted_sum_mode="change",
            rounding="round",
            rounding_precision="-2",
        ),
    )
    # then
    assert response.status_code == 302
    metric = BillableMetric.objects.get(code="storage_changes")
    assert (metric.recurring, metric.weighted_sum_mode, metric.rounding_precision) == (
        True,
        "change",
        -2,
    )
    listing = admin_client.get("/admin/metering/billablemetric/").content.decode()
    assert "round to the nearest 100" in listing


def test_the_form_refuses_changes_on_a_metric_that_is_not_a_gauge(admin_client):
    # when
    response = admin_client.post(ADD_URL, _form(weighted_sum_mode="change"))
    # then
    assert response.status_code == 200
    assert "Only a weighted_sum metric reads its values as changes." in response.content.decode()
    assert not BillableMetric.objects.exists()


@pytest.mark.parametrize(
    ("_case", "overrides", "field", "message"),
    [
        ("sum without property", {"field_name": ""}, "field_name", "needs the property it reads"),
        ("count with property", {"aggregation": "count"}, "field_name", "reads no property"),
        ("code not a slug", {"code": "LLM Tokens"}, "code", "Use a lowercase slug"),
        ("filters not JSON", {"filters": "{model: gpt}"}, "filters", "Enter a valid JSON"),
        ("filters not lists", {"filters": '{"model": "gpt"}'}, "filters", "non-empty list"),
        (
            "weights on max",
            {"aggregation": "max", "weights": '{"property": "tier"}'},
            "weights",
            "Only a sum metric",
        ),
        (
            "precision without rounding",
            {"rounding_precision": "2"},
            "rounding_precision",
            "Choose a rounding mode",
        ),
    ],
)
def test_invalid_metric_shows_the_error_beside_its_field(
    admin_client, _case, overrides, field, message
):
    # when
    response = admin_client.post(ADD_URL, _form(**overrides))
    # then: the form again, the message in that field's row, nothing stored
    assert response.status_code == 200
    assert message in _errors_of(response.content.decode(), field)
    assert not BillableMetric.objects.exists()
    assert not AuditLogEntry.objects.exists()


def test_invalid_json_is_shown_back_as_typed(admin_client):
    response = admin_client.post(ADD_URL, _form(filters="{model: gpt}"))
    assert "{model: gpt}</textarea>" in response.content.decode()


def test_a_metric_without_events_stays_fully_editable(admin_client, make_metric):
    # given
    metric = make_metric("api_calls")
    # when
    response = admin_client.post(
        f"/admin/metering/billablemetric/{metric.pk}/change/",
        _form(code="api_requests", name="API requests", aggregation="count", field_name=""),
    )
    # then
    assert response.status_code == 302
    metric.refresh_from_db()
    assert (metric.code, metric.name) == ("api_requests", "API requests")


def test_code_aggregation_and_property_are_fixed_once_events_use_the_metric(
    admin_client, make_metric, make_events
):
    # given
    metric = make_metric("llm_tokens", aggregation=Aggregation.SUM, field_name="tokens")
    make_events(1, code="llm_tokens", properties={"tokens": 10})
    url = f"/admin/metering/billablemetric/{metric.pk}/change/"
    # when
    page = admin_client.get(url).content.decode()
    response = admin_client.post(
        url, _form(code="tokens", aggregation="max", field_name="t", name="Tokens of LLMs")
    )
    # then: shown read-only, and a forged post changes only the editable fields
    assert 'name="code"' not in page
    assert 'name="aggregation"' not in page
    assert 'name="field_name"' not in page
    assert 'name="name"' in page
    assert "Events use this metric" in page
    assert response.status_code == 302
    metric.refresh_from_db()
    assert (metric.code, metric.aggregation, metric.field_name) == ("llm_tokens", "sum", "tokens")
    assert metric.name == "Tokens of LLMs"


def test_change_page_checks_event_use_with_one_query(
    admin_client, make_metric, django_assert_max_num_queries
):
    # given
    metric = make_metric("api_calls")
    # when / then: session, user, metric, one EXISTS on events, the catalog's checks (charges,
    # features) and its list of uses (charges, features); nothing per field
    with django_assert_max_num_queries(9) as captured:
        response = admin_client.get(f"/admin/metering/billablemetric/{metric.pk}/change/")
    assert response.status_code == 200
    event_queries = [q["sql"] for q in captured.captured_queries if "metering_event" in q["sql"]]
    assert len(event_queries) == 1
    assert "LIMIT 1" in event_queries[0]


def test_a_metric_with_events_cannot_be_deleted(admin_client, make_metric, make_events):
    metric = make_metric("api_calls")
    make_events(1, code="api_calls")
    response = admin_client.get(f"/admin/metering/billablemetric/{metric.pk}/delete/")
    assert response.status_code == 403
    assert BillableMetric.objects.filter(pk=metric.pk).exists()


def test_an_unused_metric_can_be_deleted_and_the_deletion_is_audited(admin_client, make_metric):
    # given
    metric = make_metric("typo_metric")

    # when
    response = admin_client.post(
        f"/admin/metering/billablemetric/{metric.pk}/delete/", {"post": "yes"}
    )

    # then
    assert response.status_code == 302
    assert not BillableMetric.objects.filter(pk=metric.pk).exists()
    assert AuditLogEntry.objects.filter(action="billable_metric.deleted").count() == 1
