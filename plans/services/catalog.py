"""Plans, versions and charges (features and their plan values: `plans.services.features`).

A version is edited only while it is a draft; publishing freezes it (any later write raises
``ConflictError`` with code ``version_published``). Changing a published price means a new draft
(``plan_version_create_draft_from``) and publishing it.
"""

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from billing_site.core.audit import actor_user, audit_log_write, jsonable
from billing_site.core.exceptions import ApplicationError, ConflictError
from metering.models import BillableMetric
from plans.charge_filters import charge_errors
from plans.models import Charge, Plan, PlanFeature, PlanVersion
from plans.services._common import draft_locked, model_update
from plans.services.features import (  # field lists re-exported for the admin
    FEATURE_UPDATABLE_FIELDS as FEATURE_UPDATABLE_FIELDS,
)
from plans.services.features import PLAN_FEATURE_FIELDS, plan_feature_errors

PLAN_UPDATABLE_FIELDS = ("name", "description")
VERSION_FIELDS = (
    "currency",
    "interval",
    "base_fee",
    "base_fee_in_advance",
    "trial_days",
    "invoice_grace_days",
    "net_payment_days",
)
CHARGE_UPDATABLE_FIELDS = (
    "charge_model",
    "properties",
    "filters",
    "prorated",
    "pay_in_advance",
    "invoice_display_name",
    "min_amount",
    "position",
)


# --- plans -------------------------------------------------------------------------------------


@transaction.atomic
def plan_create(*, code: str, name: str, description: str = "", actor: Any = None) -> Plan:
    plan = Plan(code=code, name=name, description=description)
    plan.full_clean()
    plan.save()
    audit_log_write(
        actor=actor, action="plan.created", obj=plan, changes={"code": code, "name": name}
    )
    return plan


@transaction.atomic
def plan_update(*, plan: Plan, data: Mapping[str, Any], actor: Any = None) -> Plan:
    """Rename or describe a plan; its code is its identity and never changes."""
    unknown = sorted(set(data) - set(PLAN_UPDATABLE_FIELDS))
    if unknown:
        raise ValidationError({field: ["This field cannot be updated."] for field in unknown})
    plan, changes = model_update(instance=plan, fields=PLAN_UPDATABLE_FIELDS, data=data)
    if changes:
        audit_log_write(actor=actor, action="plan.updated", obj=plan, changes=changes)
    return plan


# --- versions ----------------------------------------------------------------------------------


def _next_number(plan: Plan) -> int:
    # Lock the plan so two drafts created at once cannot take the same number.
    Plan.objects.select_for_update().filter(pk=plan.pk).first()
    return (plan.versions.aggregate(top=Max("number"))["top"] or 0) + 1


def _ensure_no_draft(plan: Plan) -> None:
    draft = plan.versions.filter(status=PlanVersion.Status.DRAFT).first()
    if draft is not None:
        raise ConflictError(
            f"Plan {plan.code!r} already has a draft (version {draft.number}); edit, publish "
            "or delete it first.",
            code="draft_exists",
        )


@transaction.atomic
def plan_version_create_draft(
    *,
    plan: Plan,
    currency: str = "USD",
    interval: str = "month",
    base_fee: Decimal = Decimal("0"),
    base_fee_in_advance: bool = False,
    trial_days: int = 0,
    invoice_grace_days: int = 0,
    net_payment_days: int = 0,
    actor: Any = None,
) -> PlanVersion:
    """A new empty draft version numbered after the plan's latest."""
    number = _next_number(plan)
    _ensure_no_draft(plan)
    version = PlanVersion(
        plan=plan,
        number=number,
        currency=currency,
        interval=interval,
        base_fee=base_fee,
        base_fee_in_advance=base_fee_in_advance,
        trial_days=trial_days,
        invoice_grace_days=invoice_grace_days,
        net_payment_days=net_payment_days,
    )
    version.full_clean()
    version.save()
    audit_log_write(
        actor=actor,
        action="plan_version.created",
        obj=version,
        changes={field: jsonable(getattr(version, field)) for field in VERSION_FIELDS},
    )
    return version


@transaction.atomic
def plan_version_create_draft_from(*, version: PlanVersion, actor: Any = None) -> PlanVersion:
    """A new draft (numbered after the plan's latest) copying ``version``'s fields, charges and
    plan features. Overrides and subscriptions stay where they are."""
    plan = version.plan
    number = _next_number(plan)
    _ensure_no_draft(plan)
    draft = PlanVersion(
        plan=plan, number=number, **{field: getattr(version, field) for field in VERSION_FIELDS}
    )
    draft.full_clean()
    draft.save()
    Charge.objects.bulk_create(
        [
            Charge(
                version=draft,
                metric_id=charge.metric_id,
                charge_model=charge.charge_model,
                properties=charge.properties,
                filters=charge.filters,
                prorated=charge.prorated,
                pay_in_advance=charge.pay_in_advance,
                invoice_display_name=charge.invoice_display_name,
                min_amount=charge.min_amount,
                position=charge.position,
            )
            for charge in version.charges.all()
        ]
    )
    PlanFeature.objects.bulk_create(
        [
            PlanFeature(
                version=draft,
                feature_id=pf.feature_id,
                **{field: getattr(pf, field) for field in PLAN_FEATURE_FIELDS},
            )
            for pf in version.features.all()
        ]
    )
    audit_log_write(
        actor=actor,
        action="plan_version.drafted_from",
        obj=draft,
        changes={"from_version": version.number},
    )
    return draft


@transaction.atomic
def plan_version_update(
    *, version: PlanVersion, data: Mapping[str, Any], actor: Any = None
) -> PlanVersion:
    unknown = sorted(set(data) - set(VERSION_FIELDS))
    if unknown:
        raise ValidationError({field: ["This field cannot be updated."] for field in unknown})
    version = draft_locked(version)
    version, changes = model_update(instance=version, fields=VERSION_FIELDS, data=data)
    if changes:
        audit_log_write(actor=actor, action="plan_version.updated", obj=version, changes=changes)
    return version


@transaction.atomic
def plan_version_draft_delete(*, version: PlanVersion, actor: Any = None) -> None:
    """Delete a draft with its charges and features (a published version is archived instead)."""
    version = draft_locked(version)
    audit_log_write(
        actor=actor,
        action="plan_version.draft_deleted",
        obj=version,
        changes={"number": version.number},
    )
    version.delete()


def plan_version_publish_errors(version: PlanVersion) -> dict[str, list[str]]:
    """What stops ``version`` from being published, by field; ``{}`` when it can be."""
    errors: dict[str, list[str]] = {}
    if version.base_fee < 0:
        errors.setdefault("base_fee", []).append("The base fee must not be negative.")
    for index, charge in enumerate(version.charges.select_related("metric")):
        prefix = f"charges[{index}]"
        for field, messages in _charge_errors(charge).items():
            errors.setdefault(f"{prefix}.{field}", []).extend(
                f"{charge.metric.code}: {m}" for m in messages
            )
        if charge.min_amount is not None and charge.min_amount < 0:
            errors.setdefault(f"{prefix}.min_amount", []).append(
                f"{charge.metric.code}: the minimum amount must not be negative."
            )
    for pf in version.features.select_related("feature"):
        for field, messages in plan_feature_errors(pf.feature, pf).items():
            errors.setdefault(f"features.{pf.feature.slug}.{field}", []).extend(messages)
    return errors


@transaction.atomic
def plan_version_publish(*, version: PlanVersion, actor: Any = None) -> PlanVersion:
    """Freeze a draft so subscriptions can use it. Validation failures list every problem,
    with paths such as ``charges[0].properties.graduated_ranges[1].from_value``.

    Publishing archives nothing: earlier versions stay published until archived.
    """
    version = draft_locked(version)
    errors = plan_version_publish_errors(version)
    if errors:
        first = next(iter(errors.values()))[0]
        raise ApplicationError(
            f"Version {version.number} cannot be published: {first}",
            code="invalid_version",
            fields=errors,
        )
    version.status = PlanVersion.Status.PUBLISHED
    version.published_at = timezone.now()
    version.published_by = actor_user(actor)
    version.full_clean()
    version.save()
    audit_log_write(
        actor=actor,
        action="plan_version.published",
        obj=version,
        changes={
            "number": version.number,
            "charges": version.charges.count(),
            "features": version.features.count(),
        },
    )
    return version


@transaction.atomic
def plan_version_archive(
    *, version: PlanVersion, actor: Any = None, reason: str = ""
) -> PlanVersion:
    """Withdraw a published version from sale. Its subscriptions keep running on it."""
    version = PlanVersion.objects.select_for_update().select_related("plan").get(pk=version.pk)
    if version.status == PlanVersion.Status.ARCHIVED:
        return version
    if version.status == PlanVersion.Status.DRAFT:
        raise ConflictError(
            "A draft is not on sale; delete it instead of archiving it.", code="version_draft"
        )
    version.status = PlanVersion.Status.ARCHIVED
    version.archived_at = timezone.now()
    version.full_clean()
    version.save(update_fields=["status", "archived_at", "updated_at"])
    audit_log_write(actor=actor, action="plan_version.archived", obj=version, reason=reason)
    return version


# --- charges -----------------------------------------------------------------------------------


def _charge_errors(charge: Charge) -> dict[str, list[str]]:
    return charge_errors(
        charge_model=charge.charge_model,
        properties=charge.properties,
        filters=charge.filters,
        prorated=charge.prorated,
        metric_aggregation=charge.metric.aggregation,
        metric_recurring=charge.metric.recurring,
        pay_in_advance=charge.pay_in_advance,
    )


def _charge_check(charge: Charge) -> None:
    charge.full_clean()
    problems = _charge_errors(charge)
    if problems:
        raise ValidationError(problems)


def _metric_free(version: PlanVersion, metric: BillableMetric, exclude: int | None = None) -> None:
    clash = version.charges.filter(metric=metric).exclude(pk=exclude).exists()
    if clash:
        raise ValidationError(
            {"metric": [f"Version {version.number} already has a charge for {metric.code!r}."]}
        )


@transaction.atomic
def charge_create(
    *,
    version: PlanVersion,
    metric: BillableMetric,
    charge_model: str,
    properties: Mapping[str, Any],
    filters: Sequence[Mapping[str, Any]] = (),
    prorated: bool = False,
    pay_in_advance: bool = False,
    invoice_display_name: str = "",
    min_amount: Decimal | None = None,
    position: int | None = None,
    actor: Any = None,
) -> Charge:
    """Add a charge to a draft; properties are validated now, with messages naming tier and
    field (``properties.graduated_ranges[1].from_value``)."""
    version = draft_locked(version)
    if BillableMetric.objects.filter(pk=metric.pk, archived_at__isnull=False).exists():
        raise ValidationError(
            {"metric": [f"{metric.code} is archived: it is offered to no new charge."]}
        )
    _metric_free(version, metric)
    if position is None:
        position = (version.charges.aggregate(top=Max("position"))["top"] or 0) + 1
    charge = Charge(
        version=version,
        metric=metric,
        charge_model=charge_model,
        properties=dict(properties),
        filters=[dict(f) if isinstance(f, Mapping) else f for f in filters],
        prorated=prorated,
        pay_in_advance=pay_in_advance,
        invoice_display_name=invoice_display_name,
        min_amount=min_amount,
        position=position,
    )
    _charge_check(charge)
    charge.save()
    audit_log_write(
        actor=actor,
        action="charge.created",
        obj=charge,
        changes={
            "version": version.number,
            "metric": metric.code,
            "charge_model": charge_model,
            "properties": jsonable(charge.properties),
            "filters": jsonable(charge.filters),
            "prorated": prorated,
            "pay_in_advance": pay_in_advance,
        },
    )
    return charge


@transaction.atomic
def charge_update(*, charge: Charge, data: Mapping[str, Any], actor: Any = None) -> Charge:
    unknown = sorted(set(data) - set(CHARGE_UPDATABLE_FIELDS))
    if unknown:
        raise ValidationError({field: ["This field cannot be updated."] for field in unknown})
    draft_locked(charge.version)
    charge = Charge.objects.select_for_update().get(pk=charge.pk)
    changes: dict[str, Any] = {}
    for field in CHARGE_UPDATABLE_FIELDS:
        if field in data and getattr(charge, field) != data[field]:
            changes[field] = {"old": jsonable(getattr(charge, field)), "new": jsonable(data[field])}
            setattr(charge, field, data[field])
    if changes:
        _charge_check(charge)
        charge.save()
        audit_log_write(actor=actor, action="charge.updated", obj=charge, changes=changes)
    return charge


@transaction.atomic
def charge_delete(*, charge: Charge, actor: Any = None) -> None:
    draft_locked(charge.version)
    audit_log_write(
        actor=actor,
        action="charge.deleted",
        obj=charge,
        changes={"metric_id": charge.metric_id, "properties": jsonable(charge.properties)},
    )
    charge.delete()
