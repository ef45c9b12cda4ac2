"""Features (what code checks, by slug) and their values on plan versions."""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from billing_site.core.audit import audit_log_write, jsonable
from metering.models import BillableMetric
from plans.models import Feature, PlanFeature, PlanVersion
from plans.services._common import draft_locked, model_update

PLAN_FEATURE_FIELDS = ("enabled", "value", "limit", "reset_period", "cap", "alert_thresholds")
FEATURE_UPDATABLE_FIELDS = ("name", "description")


@transaction.atomic
def feature_create(
    *,
    slug: str,
    name: str,
    kind: str,
    metric: BillableMetric | None = None,
    description: str = "",
    actor: Any = None,
) -> Feature:
    if kind == Feature.Kind.METERED and metric is None:
        raise ValidationError({"metric": ["A metered feature needs the metric it counts."]})
    if kind != Feature.Kind.METERED and metric is not None:
        raise ValidationError({"metric": ["Only a metered feature counts a metric."]})
    feature = Feature(slug=slug, name=name, kind=kind, metric=metric, description=description)
    feature.full_clean()
    feature.save()
    audit_log_write(
        actor=actor,
        action="feature.created",
        obj=feature,
        changes={"slug": slug, "kind": kind, "metric": metric.code if metric else None},
    )
    return feature


@transaction.atomic
def feature_update(*, feature: Feature, data: Mapping[str, Any], actor: Any = None) -> Feature:
    """Rename or describe a feature; its slug and kind are what code and plans rely on."""
    unknown = sorted(set(data) - set(FEATURE_UPDATABLE_FIELDS))
    if unknown:
        raise ValidationError({field: ["This field cannot be updated."] for field in unknown})
    feature, changes = model_update(instance=feature, fields=FEATURE_UPDATABLE_FIELDS, data=data)
    if changes:
        audit_log_write(actor=actor, action="feature.updated", obj=feature, changes=changes)
    return feature


def plan_feature_errors(feature: Feature, pf: PlanFeature) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if feature.kind != Feature.Kind.STATIC and pf.value is not None:
        errors["value"] = [f"Only a static feature has a value; {feature.slug} is {feature.kind}."]
    if feature.kind == Feature.Kind.STATIC and pf.value is None:
        errors["value"] = [f"The static feature {feature.slug} needs a value."]
    if feature.kind != Feature.Kind.METERED and pf.limit is not None:
        errors["limit"] = [f"Only a metered feature has a limit; {feature.slug} is {feature.kind}."]
    if any(not 0 < t <= 1000 for t in pf.alert_thresholds or ()):
        errors["alert_thresholds"] = ["Thresholds are percents between 1 and 1000."]
    if pf.limit is not None and pf.limit < 0:
        errors["limit"] = ["The limit must not be negative (leave it blank for unlimited)."]
    return errors


@transaction.atomic
def plan_feature_set(
    *,
    version: PlanVersion,
    feature: Feature,
    enabled: bool = True,
    value: Any = None,
    limit: Decimal | None = None,
    reset_period: str = "billing",
    cap: str = "hard",
    alert_thresholds: list[int] | None = None,
    actor: Any = None,
) -> PlanFeature:
    """Give ``feature`` its value on a draft version (creating or replacing it)."""
    version = draft_locked(version)
    pf = PlanFeature.objects.filter(version=version, feature=feature).first() or PlanFeature(
        version=version, feature=feature
    )
    old = {field: jsonable(getattr(pf, field)) for field in PLAN_FEATURE_FIELDS} if pf.pk else None
    pf.enabled, pf.value, pf.limit, pf.reset_period, pf.cap = (
        enabled,
        value,
        limit,
        reset_period,
        cap,
    )
    if alert_thresholds is not None:
        pf.alert_thresholds = sorted(set(alert_thresholds))
    pf.full_clean()
    errors = plan_feature_errors(feature, pf)
    if errors:
        raise ValidationError(errors)
    pf.save()
    new = {field: jsonable(getattr(pf, field)) for field in PLAN_FEATURE_FIELDS}
    audit_log_write(
        actor=actor,
        action="plan_feature.set",
        obj=pf,
        changes={"feature": feature.slug, "old": old, "new": new},
    )
    return pf


@transaction.atomic
def plan_feature_remove(*, plan_feature: PlanFeature, actor: Any = None) -> None:
    draft_locked(plan_feature.version)
    audit_log_write(
        actor=actor,
        action="plan_feature.removed",
        obj=plan_feature,
        changes={"feature_id": plan_feature.feature_id},
    )
    plan_feature.delete()
