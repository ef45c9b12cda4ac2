from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from billing_site.core.exceptions import ApplicationError, ConflictError
from billing_site.core.models import AuditLogEntry
from plans.models import Charge, PlanFeature, PlanVersion
from plans.services import (
    charge_create,
    charge_delete,
    charge_update,
    plan_feature_set,
    plan_version_archive,
    plan_version_create_draft,
    plan_version_create_draft_from,
    plan_version_publish,
    plan_version_update,
)
from tests.plans.factories import (
    SEED_GRADUATED,
    make_feature,
    make_metric,
    make_plan,
    make_published_plan,
    make_version,
)

pytestmark = pytest.mark.django_db


def test_versions_are_numbered_in_sequence_per_plan():
    # given
    plan = make_plan("starter")
    first = make_version(plan, publish=True)

    # when
    second = plan_version_create_draft(plan=plan)

    # then
    assert (first.number, second.number) == (1, 2)
    assert make_version(make_plan("other")).number == 1


def test_a_plan_has_at_most_one_draft():
    # given
    plan = make_plan()
    make_version(plan)

    # when / then
    with pytest.raises(ConflictError) as raised:
        plan_version_create_draft(plan=plan)
    assert raised.value.code == "draft_exists"
    assert plan.versions.count() == 1


def test_the_database_also_refuses_a_second_draft():
    plan = make_plan()
    make_version(plan)
    with pytest.raises(IntegrityError):
        PlanVersion.objects.create(plan=plan, number=2)


@pytest.mark.parametrize(
    ("_case", "edit"),
    [
        (
            "update a field",
            lambda v: plan_version_update(version=v, data={"base_fee": Decimal("1")}),
        ),
        (
            "add a charge",
            lambda v: charge_create(
                version=v,
                metric=make_metric("storage"),
                charge_model="standard",
                properties={"amount": "1"},
            ),
        ),
        (
            "update a charge",
            lambda v: charge_update(
                charge=v.charges.get(),
                data={"properties": {"amount": "2"}, "charge_model": "standard"},
            ),
        ),
        ("delete a charge", lambda v: charge_delete(charge=v.charges.get())),
        ("set a feature", lambda v: plan_feature_set(version=v, feature=make_feature("sso"))),
        ("publish again", lambda v: plan_version_publish(version=v)),
    ],
)
def test_a_published_version_is_immutable(_case, edit):
    # given a published version
    version = make_published_plan()
    make_feature("sso")
    make_metric("storage")
    charges_before = list(Charge.objects.values_list("pk", "charge_model", "properties"))
    audit_before = AuditLogEntry.objects.count()

    # when / then
    with pytest.raises(ConflictError) as raised:
        edit(version)
    assert raised.value.code == "version_published"
    assert raised.value.status == 409

    # and nothing was written
    version.refresh_from_db()
    assert version.base_fee == Decimal("49.0000")
    assert list(Charge.objects.values_list("pk", "charge_model", "properties")) == charges_before
    assert not PlanFeature.objects.exists()
    assert AuditLogEntry.objects.count() == audit_before


def test_an_archived_version_is_immutable_too():
    version = plan_version_archive(version=make_published_plan())
    with pytest.raises(ConflictError, match="archived"):
        plan_version_update(version=version, data={"trial_days": 3})


def test_immutability_is_checked_on_the_current_row_not_a_stale_instance():
    # given an instance loaded while the version was a draft
    version = make_version()
    stale = PlanVersion.objects.get(pk=version.pk)
    plan_version_publish(version=version)

    # when / then
    with pytest.raises(ConflictError):
        plan_version_update(version=stale, data={"trial_days": 3})


def test_draft_from_copies_fields_charges_and_features():
    # given a published version with two charges and two features
    version = make_version(
        publish=False,
        base_fee=Decimal("19"),
        interval="quarter",
        trial_days=7,
        charges={
            "api-calls": ("graduated", SEED_GRADUATED),
            "storage": ("package", {"amount": "10", "package_size": "1000", "free_units": "0"}),
        },
    )
    plan_feature_set(version=version, feature=make_feature("sso"), enabled=True)
    plan_feature_set(
        version=version,
        feature=make_feature("calls", kind="metered"),
        limit=Decimal("1000"),
        reset_period="day",
        cap="soft",
    )
    version = plan_version_publish(version=version)

    # when
    draft = plan_version_create_draft_from(version=version)

    # then
    assert draft.status == "draft"
    assert draft.number == version.number + 1
    assert (draft.base_fee, draft.interval, draft.trial_days) == (Decimal("19.0000"), "quarter", 7)
    copied = list(
        draft.charges.values_list("metric__code", "charge_model", "properties", "position")
    )
    original = list(
        version.charges.values_list("metric__code", "charge_model", "properties", "position")
    )
    assert copied == original
    assert len(copied) == 2
    assert set(draft.charges.values_list("pk", flat=True)).isdisjoint(
        version.charges.values_list("pk", flat=True)
    )
    features = {
        pf.feature.slug: (pf.enabled, pf.limit, pf.reset_period, pf.cap)
        for pf in draft.features.select_related("feature")
    }
    assert features == {
        "sso": (True, None, "billing", "hard"),
        "calls": (True, Decimal("1000.0000"), "day", "soft"),
    }
    # and the draft can be edited while the original stays as it was
    charge_update(
        charge=draft.charges.get(metric__code="storage"), data={"min_amount": Decimal("5")}
    )
    assert version.charges.get(metric__code="storage").min_amount is None


def test_charge_properties_are_validated_on_save_with_tier_and_field():
    version = make_version()
    with pytest.raises(ValidationError) as raised:
        charge_create(
            version=version,
            metric=make_metric(),
            charge_model="graduated",
            properties={
                "graduated_ranges": [
                    {"from_value": 0, "to_value": 1000, "per_unit_amount": "0.02"},
                    {"from_value": 1500, "to_value": None, "per_unit_amount": "0.01"},
                ]
            },
        )
    errors = raised.value.message_dict
    assert list(errors) == ["properties.graduated_ranges[1].from_value"]
    assert (
        "Tier 2 must start at 1000 or 1001"
        in errors["properties.graduated_ranges[1].from_value"][0]
    )
    assert not Charge.objects.exists()


def test_one_charge_per_metric_per_version():
    version = make_version(charges={"api-calls": ("standard", {"amount": "0.01"})})
    with pytest.raises(ValidationError) as raised:
        charge_create(
            version=version,
            metric=make_metric(),
            charge_model="standard",
            properties={"amount": "1"},
        )
    assert "metric" in raised.value.message_dict


def test_publish_collects_every_invalid_charge_with_messages_from_pricing():
    # given a draft whose charges were made invalid behind the service's back
    version = make_version(
        charges={
            "api-calls": ("graduated", SEED_GRADUATED),
            "storage": ("package", {"amount": "10", "package_size": "1000"}),
        }
    )
    Charge.objects.filter(metric__code="api-calls").update(
        properties={
            "graduated_ranges": [
                {"from_value": 0, "to_value": 1000, "per_unit_amount": "-0.02"},
                {"from_value": 1001, "to_value": None, "per_unit_amount": "0.01"},
            ]
        }
    )
    Charge.objects.filter(metric__code="storage").update(
        properties={"amount": "10", "package_size": "0"}
    )

    # when
    with pytest.raises(ApplicationError) as raised:
        plan_version_publish(version=version)

    # then each message names the charge, the tier and the field
    fields = raised.value.fields
    assert raised.value.code == "invalid_version"
    assert fields["charges[0].properties.graduated_ranges[0].per_unit_amount"] == [
        "api-calls: Tier 1 per_unit_amount must not be negative; got -0.02."
    ]
    assert fields["charges[1].properties.package_size"] == [
        "storage: package_size must be greater than 0; got 0."
    ]
    # and the version is still a draft
    version.refresh_from_db()
    assert version.status == "draft"
    assert version.published_at is None


def test_publish_sets_status_time_and_audit():
    # when
    version = plan_version_publish(version=make_version())

    # then
    assert version.status == "published"
    assert version.published_at is not None
    assert AuditLogEntry.objects.filter(action="plan_version.published").count() == 1


def test_publishing_archives_nothing():
    plan = make_plan()
    first = make_version(plan, publish=True)
    make_version(plan, publish=True)
    first.refresh_from_db()
    assert first.status == "published"


def test_static_feature_needs_a_value_and_boolean_has_no_limit():
    version = make_version()
    with pytest.raises(ValidationError) as raised:
        plan_feature_set(version=version, feature=make_feature("seats", kind="static"))
    assert "value" in raised.value.message_dict
    with pytest.raises(ValidationError) as raised:
        plan_feature_set(version=version, feature=make_feature("sso"), limit=Decimal("3"))
    assert "limit" in raised.value.message_dict
    assert not PlanFeature.objects.exists()


def test_archiving_a_draft_is_refused():
    with pytest.raises(ConflictError) as raised:
        plan_version_archive(version=make_version())
    assert raised.value.code == "version_draft"
