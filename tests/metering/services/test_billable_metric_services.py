import pytest
from django.core.exceptions import ValidationError

from billing_site.core.models import AuditLogEntry
from metering.models import BillableMetric
from metering.services import (
    Outcome,
    billable_metric_create,
    billable_metric_update,
    metric_usage_check_register,
    metric_used_by,
    usage_events_ingest,
)
from metering.services import metrics as metric_services

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokens():
    return billable_metric_create(
        code="llm_tokens", name="LLM tokens", aggregation="sum", field_name="tokens"
    )


@pytest.fixture
def with_events(tokens, event_payload, received_at):
    usage_events_ingest(
        events=[event_payload(code="llm_tokens", properties={"tokens": 3})],
        received_at=received_at,
    )
    return tokens


@pytest.fixture
def charges_use_every_metric():
    def charges(metric):
        return "charges"

    metric_usage_check_register(charges)
    yield
    metric_services._usage_checks.remove(charges)


def test_creating_a_metric_records_it_in_the_audit_log(django_user_model):
    # given
    staff = django_user_model.objects.create_user("ops")
    # when
    metric = billable_metric_create(
        code="api-call.v2", name="API calls", aggregation="count", actor=staff
    )
    # then
    entry = AuditLogEntry.objects.get()
    assert (entry.action, entry.actor, entry.object_id) == (
        "billable_metric.created",
        staff,
        str(metric.pk),
    )
    assert entry.changes["code"] == "api-call.v2"


@pytest.mark.parametrize(
    ("_case", "fields", "field"),
    [
        ("sum without property", {"aggregation": "sum"}, "field_name"),
        ("code not a slug", {"code": "API Calls"}, "code"),
        ("unknown aggregation", {"aggregation": "median", "field_name": "x"}, "aggregation"),
    ],
)
def test_an_invalid_metric_is_refused_and_nothing_written(_case, fields, field):
    data = {"code": "api_calls", "name": "API calls", "aggregation": "count", **fields}
    with pytest.raises(ValidationError) as error:
        billable_metric_create(**data)
    assert field in error.value.message_dict
    assert BillableMetric.objects.count() == 0
    assert AuditLogEntry.objects.count() == 0


def test_a_duplicate_code_is_refused(tokens):
    with pytest.raises(ValidationError) as error:
        billable_metric_create(code="llm_tokens", name="Again", aggregation="count")
    assert "code" in error.value.message_dict


def test_an_unused_metric_may_change_its_code_aggregation_and_property(tokens):
    # when
    metric = billable_metric_update(
        metric=tokens, code="tokens.v2", aggregation="max", field_name="total"
    )
    # then
    metric.refresh_from_db()
    assert (metric.code, metric.aggregation, metric.field_name) == ("tokens.v2", "max", "total")
    entry = AuditLogEntry.objects.get(action="billable_metric.updated")
    assert entry.changes == {
        "code": ["llm_tokens", "tokens.v2"],
        "aggregation": ["sum", "max"],
        "field_name": ["tokens", "total"],
    }


@pytest.mark.parametrize(
    ("_case", "changes"),
    [
        ("code", {"code": "tokens.v2"}),
        ("aggregation", {"aggregation": "max"}),
        ("property", {"field_name": "total"}),
    ],
)
def test_code_aggregation_and_property_are_frozen_once_events_use_the_metric(
    with_events, _case, changes
):
    # when
    with pytest.raises(ValidationError) as error:
        billable_metric_update(metric=with_events, **changes)
    # then
    assert error.value.message_dict == {
        name: [
            "Cannot change once events use this metric: it would change what was already "
            "measured and billed. Make a new metric from this one instead."
        ]
        for name in changes
    }
    stored = BillableMetric.objects.get()
    assert (stored.code, stored.aggregation, stored.field_name) == ("llm_tokens", "sum", "tokens")
    assert not AuditLogEntry.objects.filter(action="billable_metric.updated").exists()


def test_name_and_description_may_change_once_events_use_the_metric(with_events):
    metric = billable_metric_update(metric=with_events, name="Tokens", description="LLM tokens")
    assert (metric.name, metric.description) == ("Tokens", "LLM tokens")


def test_a_higher_app_can_freeze_a_metric_its_rows_use(tokens, charges_use_every_metric):
    # given: no events yet, but charges use it
    assert metric_used_by(metric=tokens) == ["charges"]
    # when / then
    with pytest.raises(ValidationError, match="Cannot change once charges use this metric:"):
        billable_metric_update(metric=tokens, code="tokens.v2")


def test_uses_are_listed(with_events, charges_use_every_metric):
    assert metric_used_by(metric=with_events) == ["events", "charges"]


def test_fields_outside_the_metric_cannot_be_set(tokens):
    with pytest.raises(ValidationError) as error:
        billable_metric_update(metric=tokens, created_at=None)
    assert error.value.message_dict == {"created_at": ["This field cannot be changed."]}


def test_ingest_validates_against_the_metric_as_just_changed(tokens, event_payload, received_at):
    # given: tokens was a sum of "tokens"; it now reads "units"
    billable_metric_update(metric=tokens, field_name="units")
    # when
    result = usage_events_ingest(
        events=[
            event_payload(code="llm_tokens", properties={"units": 4}),
            event_payload(code="llm_tokens", properties={"tokens": 4}),
        ],
        received_at=received_at,
    )
    # then
    assert [(o.status, o.field) for o in result.outcomes] == [
        (Outcome.ACCEPTED, ""),
        (Outcome.REJECTED, "properties.units"),
    ]


@pytest.mark.parametrize(
    ("_case", "fields", "field"),
    [
        (
            "a recurring max",
            {"aggregation": "max", "field_name": "n", "recurring": True},
            "recurring",
        ),
        (
            "a recurring last",
            {"aggregation": "last", "field_name": "n", "recurring": True},
            "recurring",
        ),
        (
            "changes on a sum",
            {"aggregation": "sum", "field_name": "n", "weighted_sum_mode": "change"},
            "weighted_sum_mode",
        ),
        (
            "precision beyond -12",
            {"aggregation": "count", "rounding": "round", "rounding_precision": -13},
            "rounding_precision",
        ),
    ],
)
def test_options_that_mean_nothing_for_the_aggregation_are_refused(_case, fields, field):
    # given / when
    with pytest.raises(ValidationError) as error:
        billable_metric_create(code="m", name="M", **fields)
    # then
    assert field in error.value.message_dict
    assert not BillableMetric.objects.exists()


def test_a_recurring_seat_metric_rounded_to_hundreds_is_accepted():
    # given / when
    metric = billable_metric_create(
        code="seats",
        name="Seats",
        aggregation="unique_count",
        field_name="user_id",
        recurring=True,
        rounding="round",
        rounding_precision=-2,
    )
    # then
    metric.refresh_from_db()
    assert (metric.recurring, metric.rounding_precision) == (True, -2)
