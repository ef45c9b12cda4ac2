from decimal import Decimal

import pytest

from plans.selectors import FieldChange, plan_versions_diff
from plans.services import (
    charge_create,
    charge_delete,
    charge_update,
    plan_feature_set,
    plan_version_create_draft_from,
    plan_version_publish,
    plan_version_update,
)
from tests.plans.factories import SEED_GRADUATED, make_feature, make_metric, make_version

pytestmark = pytest.mark.django_db


def test_diff_reports_fields_and_charges_added_removed_and_changed():
    # given a published version and a draft made from it
    old = make_version(
        publish=True,
        charges={
            "api-calls": ("graduated", SEED_GRADUATED),
            "storage": ("standard", {"amount": "0.10"}),
            "seats": ("standard", {"amount": "5"}),
        },
    )
    new = plan_version_create_draft_from(version=old)
    new = plan_version_update(version=new, data={"base_fee": Decimal("59.00"), "trial_days": 14})
    old.refresh_from_db()
    ranges = [dict(tier) for tier in SEED_GRADUATED["graduated_ranges"]]
    ranges[1]["per_unit_amount"] = "0.008"
    charge_update(
        charge=new.charges.get(metric__code="api-calls"),
        data={"properties": {"graduated_ranges": ranges}},
    )
    charge_delete(charge=new.charges.get(metric__code="storage"))
    charge_create(
        version=new,
        metric=make_metric("tokens"),
        charge_model="package",
        properties={"amount": "10", "package_size": "1000"},
    )

    # when
    diff = plan_versions_diff(old, new)

    # then
    assert diff.fields == (
        FieldChange("base_fee", "49.0000", "59.0000"),
        FieldChange("trial_days", 0, 14),
    )
    by_metric = {change.key: change for change in diff.charges}
    assert set(by_metric) == {"api-calls", "storage", "tokens"}
    assert by_metric["api-calls"].change == "changed"
    assert by_metric["api-calls"].fields == (
        FieldChange("properties.graduated_ranges[1].per_unit_amount", "0.01", "0.008"),
    )
    assert by_metric["storage"].change == "removed"
    assert by_metric["storage"].old["properties"] == {"amount": "0.10"}
    assert by_metric["storage"].new is None
    assert by_metric["tokens"].change == "added"
    assert by_metric["tokens"].old is None
    assert by_metric["tokens"].new["charge_model"] == "package"
    assert diff.unchanged_charges == ("seats",)
    assert diff.has_changes is True


def test_diff_reports_feature_changes():
    old = make_version(publish=False)
    plan_feature_set(
        version=old, feature=make_feature("calls", kind="metered"), limit=Decimal("1000")
    )
    old = plan_version_publish(version=old)
    new = plan_version_create_draft_from(version=old)
    plan_feature_set(version=new, feature=make_feature("calls"), limit=None)
    plan_feature_set(version=new, feature=make_feature("sso"))

    diff = plan_versions_diff(old, new)

    changes = {change.key: change for change in diff.features}
    assert changes["calls"].fields == (FieldChange("limit", "1000.0000", None),)
    assert changes["sso"].change == "added"


def test_a_version_compared_with_its_copy_has_no_changes():
    old = make_version(publish=True, charges={"api-calls": ("graduated", SEED_GRADUATED)})
    diff = plan_versions_diff(old, plan_version_create_draft_from(version=old))
    assert diff.has_changes is False
    assert diff.unchanged_charges == ("api-calls",)
