"""A metric in use never silently changes what is billed."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing_site.core.models import AuditLogEntry
from metering.models import BillableMetric
from metering.services import billable_metric_archive, billable_metric_update
from plans.services import charge_create
from tests.plans.factories import make_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokens(make_metric):
    return make_metric(
        "llm_tokens", aggregation="sum", field_name="tokens", filters={"model": ["gpt-4o"]}
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("filters", {"model": ["gpt-4o-mini"]}),
        ("weights", {"property": "tier", "values": {"premium": 2}, "default": 1}),
        ("rounding", "ceil"),
        ("field_name", "output_tokens"),
        ("aggregation", "max"),
    ],
)
def test_what_a_metric_with_events_counts_cannot_change(tokens, make_events, field, value):
    # given: the metric has events
    make_events(1, code="llm_tokens", properties={"tokens": 5, "model": "gpt-4o"})

    # when / then
    with pytest.raises(ValidationError) as refused:
        billable_metric_update(metric=tokens, **{field: value})
    assert "Make a new metric from this one" in refused.value.message_dict[field][0]
    tokens.refresh_from_db()
    assert tokens.filters == {"model": ["gpt-4o"]}
    assert tokens.rounding == "none"


def test_the_admin_shows_the_fields_read_only_and_offers_a_new_metric_from_this_one(
    admin_client, tokens, make_events
):
    # given
    make_events(1, code="llm_tokens", properties={"tokens": 5, "model": "gpt-4o"})

    # when
    page = admin_client.get(f"/admin/metering/billablemetric/{tokens.pk}/change/")
    posted = admin_client.post(
        f"/admin/metering/billablemetric/{tokens.pk}/change/",
        {
            "code": "llm_tokens",
            "name": "Tokens",
            "aggregation": "sum",
            "field_name": "tokens",
            "filters": '{"model": ["gpt-4o-mini"]}',
            "rounding": "none",
            "rounding_precision": "0",
        },
    )

    # then: the filter is shown, not editable, and the post did not change it
    html = page.content.decode()
    assert 'name="filters"' not in html
    assert "New metric from this one" in html
    assert "code=llm_tokens.v2" in html
    assert posted.status_code in (200, 302)
    tokens.refresh_from_db()
    assert tokens.filters == {"model": ["gpt-4o"]}


def test_an_unused_metric_still_changes_freely(tokens):
    billable_metric_update(metric=tokens, filters={"model": ["gpt-4o-mini"]})
    tokens.refresh_from_db()
    assert tokens.filters == {"model": ["gpt-4o-mini"]}


def test_an_archived_metric_is_offered_to_no_new_charge(tokens):
    # given
    billable_metric_archive(metric=tokens, actor=None)
    version = make_version()

    # when / then
    with pytest.raises(ValidationError) as refused:
        charge_create(
            version=version, metric=tokens, charge_model="standard", properties={"amount": "1"}
        )
    assert "archived" in refused.value.message_dict["metric"][0]
    assert AuditLogEntry.objects.filter(action="billable_metric.archived").count() == 1


def test_the_archive_action_asks_for_confirmation_first(admin_client, tokens):
    data = {"action": "archive_selected", "_selected_action": [tokens.pk]}
    confirm = admin_client.post("/admin/metering/billablemetric/", data)
    assert confirm.status_code == 200
    tokens.refresh_from_db()
    assert tokens.archived_at is None
    admin_client.post("/admin/metering/billablemetric/", {**data, "post": "yes"})
    tokens.refresh_from_db()
    assert tokens.archived_at is not None


def test_the_metric_page_lists_the_plan_versions_that_use_it(admin_client, tokens):
    # given
    version = make_version()
    charge_create(
        version=version, metric=tokens, charge_model="standard", properties={"amount": "1"}
    )

    # when
    page = admin_client.get(f"/admin/metering/billablemetric/{tokens.pk}/change/").content

    # then
    assert f"Plan {version.plan.code} v{version.number} (draft): charge" in page.decode()


def test_the_preview_tells_what_the_metric_counts_for_a_customer(admin_client, tokens, make_events):
    # given: two matching events and one the filter leaves out, in the last 30 days
    recent = timezone.now() - timedelta(days=1)
    make_events(2, code="llm_tokens", properties={"tokens": 5, "model": "gpt-4o"}, start=recent)
    later = recent + timedelta(hours=1)
    make_events(1, code="llm_tokens", properties={"tokens": 7, "model": "other"}, start=later)

    # when
    response = admin_client.get(
        f"/admin/metering/billablemetric/{tokens.pk}/preview/", {"customer": "acme"}, follow=True
    )

    # then
    shown = [str(m) for m in response.context["messages"]]
    assert shown == ["llm_tokens for acme over the last 30 days: 10 from 2 events."]


def test_the_preview_warns_when_a_metric_counts_nothing(admin_client, make_metric):
    metric = make_metric("typo", aggregation="sum", field_name="tokenz")
    response = admin_client.get(
        f"/admin/metering/billablemetric/{metric.pk}/preview/", {"customer": "acme"}, follow=True
    )
    assert "0 from 0 events. Nothing matched" in response.content.decode()


def test_archived_metrics_stay_in_the_database(tokens):
    billable_metric_archive(metric=tokens, actor=None)
    assert BillableMetric.objects.filter(pk=tokens.pk).exists()
