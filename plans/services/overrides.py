"""Overrides: one subscription's exception to its plan version, optionally time-boxed.

Values are checked here by kind (see ``SubscriptionOverride``); two overrides of the same
target (the base fee, one metric's charge, one feature) may not be in force at the same time.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing_site.core.audit import actor_label, actor_user, audit_log_write, jsonable
from billing_site.core.exceptions import ConflictError
from plans.charge_filters import ADVANCE_MODELS
from plans.discounts import DiscountError, discount_percent_parse
from plans.models import (
    CapKind,
    Charge,
    Feature,
    ResetPeriod,
    Subscription,
    SubscriptionOverride,
)
from plans.pricing import validate_properties

Kind = SubscriptionOverride.Kind


def _amount(
    value: Any, path: str, errors: dict[str, list[str]], *, nullable: bool = False
) -> str | None:
    if value is None and nullable:
        return None
    try:
        if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
            raise InvalidOperation
        number = Decimal(str(value))
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        errors.setdefault(path, []).append(f"Must be a decimal number; got {value!r}.")
        return None
    if number < 0:
        errors.setdefault(path, []).append(f"Must not be negative; got {value}.")
        return None
    return format(number, "f")


def _discount(value: Any, errors: dict[str, list[str]]) -> str | None:
    try:
        return format(discount_percent_parse(value), "f")
    except DiscountError as error:
        errors.setdefault("value.discount_percent", []).append(str(error))
        return None


def _unknown_keys(
    value: Mapping[str, Any], allowed: tuple[str, ...], errors: dict[str, list[str]]
) -> None:
    for key in value:
        if key not in allowed:
            errors.setdefault(f"value.{key}", []).append(
                f"Unknown key; expected: {', '.join(allowed)}."
            )


def _normalized_value(
    *, kind: str, value: Any, charge: Charge | None, feature: Feature | None
) -> dict[str, Any]:
    """The value checked for its kind and with amounts as decimal strings."""
    if not isinstance(value, Mapping):
        raise ValidationError({"value": ["The value must be a JSON object."]})
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if kind == Kind.BASE_FEE:
        _unknown_keys(value, ("amount", "discount_percent"), errors)
        if ("amount" in value) == ("discount_percent" in value):
            errors["value.amount"] = [
                "The base fee override needs an amount or a discount (one of them)."
            ]
        elif "amount" in value:
            clean["amount"] = _amount(value["amount"], "value.amount", errors)
        else:
            clean["discount_percent"] = _discount(value["discount_percent"], errors)
    elif kind == Kind.CHARGE and charge is not None:
        allowed = ("charge_model", "properties", "min_amount", "discount_percent")
        _unknown_keys(value, allowed, errors)
        if "properties" not in value and "discount_percent" not in value:
            errors["value.properties"] = [
                "A charge override gives the charge's properties, a discount, or both."
            ]
        if "properties" in value:
            model = value.get("charge_model", charge.charge_model)
            properties = value["properties"]
            for field, messages in validate_properties(model, properties).items():
                path = (
                    "value.charge_model" if field == "charge_model" else f"value.properties.{field}"
                )
                errors.setdefault(path, []).extend(messages)
            if charge.pay_in_advance and model not in ADVANCE_MODELS:
                errors.setdefault("value.charge_model", []).append(
                    f"The charge is paid in advance, which a {model} price cannot be (only "
                    f"{', '.join(ADVANCE_MODELS)})."
                )
            clean.update(charge_model=model, properties=properties)
        if "discount_percent" in value:
            clean["discount_percent"] = _discount(value["discount_percent"], errors)
        if "min_amount" in value:
            clean["min_amount"] = _amount(
                value["min_amount"], "value.min_amount", errors, nullable=True
            )
    elif kind == Kind.FEATURE and feature is not None:
        if feature.kind == Feature.Kind.BOOLEAN:
            _unknown_keys(value, ("enabled",), errors)
            if not isinstance(value.get("enabled"), bool):
                errors["value.enabled"] = [
                    'A boolean feature\'s override is {"enabled": true|false}.'
                ]
            clean["enabled"] = value.get("enabled")
        elif feature.kind == Feature.Kind.STATIC:
            _unknown_keys(value, ("value",), errors)
            if value.get("value") is None:
                errors["value.value"] = ["A static feature's override gives its value."]
            clean["value"] = value.get("value")
        else:
            _unknown_keys(value, ("limit", "reset_period", "cap"), errors)
            if not value:
                errors["value"] = ["Give a limit (null for unlimited), reset_period or cap."]
            if "limit" in value:
                clean["limit"] = _amount(value["limit"], "value.limit", errors, nullable=True)
            if "reset_period" in value:
                if value["reset_period"] not in ResetPeriod.values:
                    errors["value.reset_period"] = [
                        f"Choose one of: {', '.join(ResetPeriod.values)}."
                    ]
                clean["reset_period"] = value["reset_period"]
            if "cap" in value:
                if value["cap"] not in CapKind.values:
                    errors["value.cap"] = [f"Choose one of: {', '.join(CapKind.values)}."]
                clean["cap"] = value["cap"]
    elif kind == Kind.CREDIT:
        if not value:
            errors["value"] = ["A credit allowance override needs its allowance."]
        for validator in _credit_allowance_validators:
            for path, messages in validator(dict(value)).items():
                errors.setdefault(path, []).extend(messages)
        clean = dict(value)
    if errors:
        raise ValidationError(errors)
    return clean


# The credits app knows what a credit allowance holds; it registers its check here (in its
# AppConfig.ready), as the catalog cannot import it.
_credit_allowance_validators: list[Callable[[dict[str, Any]], dict[str, list[str]]]] = []


def credit_allowance_validator_register(
    validator: Callable[[dict[str, Any]], dict[str, list[str]]],
) -> None:
    if validator not in _credit_allowance_validators:
        _credit_allowance_validators.append(validator)


def _target_filter(kind: str, charge: Charge | None, feature: Feature | None) -> Q:
    if kind == Kind.CHARGE and charge is not None:
        return Q(charge__metric_id=charge.metric_id)  # charge overrides follow their metric
    if kind == Kind.FEATURE:
        return Q(feature=feature)
    return Q()


def _overlapping(
    subscription: Subscription,
    kind: str,
    charge: Charge | None,
    feature: Feature | None,
    valid_from: datetime | None,
    valid_until: datetime | None,
) -> SubscriptionOverride | None:
    # [a, b) and [c, d) overlap when a < d and c < b, an open end being infinite.
    overlap = Q()
    if valid_until is not None:
        overlap &= Q(valid_from__isnull=True) | Q(valid_from__lt=valid_until)
    if valid_from is not None:
        overlap &= Q(valid_until__isnull=True) | Q(valid_until__gt=valid_from)
    return (
        subscription.overrides.filter(kind=kind)
        .filter(_target_filter(kind, charge, feature))
        .filter(overlap)
        .first()
    )


@transaction.atomic
def subscription_override_create(
    *,
    subscription: Subscription,
    kind: str,
    value: Mapping[str, Any],
    reason: str,
    charge: Charge | None = None,
    feature: Feature | None = None,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
    actor: Any = None,
) -> SubscriptionOverride:
    """Override the base fee, one charge (by its metric), a feature value or a credit allowance
    for one subscription, in force over ``[valid_from, valid_until)`` (open ends allowed)."""
    subscription = (
        Subscription.objects.select_for_update().select_related("version").get(pk=subscription.pk)
    )
    if subscription.status not in (Subscription.Status.TRIALING, Subscription.Status.ACTIVE):
        raise ConflictError(
            f"Subscription {subscription.external_id!r} is {subscription.status}.",
            code="subscription_not_live",
        )
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = [f"Choose one of: {', '.join(Kind.values)}."]
    if kind == Kind.CHARGE:
        versions = {subscription.version_id, subscription.scheduled_version_id}
        if charge is None:
            errors["charge"] = ["A charge override names the charge it changes."]
        elif charge.version_id not in versions:
            errors["charge"] = ["The charge is not on the subscription's plan version."]
    elif charge is not None:
        errors["charge"] = [f"A {kind} override names no charge."]
    if kind == Kind.FEATURE and feature is None:
        errors["feature"] = ["A feature override names the feature it changes."]
    elif kind in (Kind.BASE_FEE, Kind.CHARGE) and feature is not None:
        errors["feature"] = [f"A {kind} override names no feature."]
    for name, moment in (("valid_from", valid_from), ("valid_until", valid_until)):
        if moment is not None and timezone.is_naive(moment):
            errors[name] = ["Give a time zone offset."]
    if not errors and valid_from and valid_until and valid_from >= valid_until:
        errors["valid_until"] = ["valid_until must be after valid_from."]
    if not (reason or "").strip():
        errors["reason"] = ["Say why this subscription is an exception."]
    if errors:
        raise ValidationError(errors)
    clean_value = _normalized_value(kind=kind, value=value, charge=charge, feature=feature)
    if kind != Kind.CREDIT:
        clash = _overlapping(subscription, kind, charge, feature, valid_from, valid_until)
        if clash is not None:
            raise ConflictError(
                f"Override {clash.pk} of the same target is in force over part of this window; "
                "end it first or choose another window.",
                code="override_overlap",
                fields={"valid_from": [f"Overlaps override {clash.pk}."]},
            )
    override = SubscriptionOverride(
        subscription=subscription,
        kind=kind,
        charge=charge,
        feature=feature,
        value=clean_value,
        valid_from=valid_from,
        valid_until=valid_until,
        reason=reason.strip(),
        created_by=actor_user(actor),
        created_by_label=actor_label(actor)[:150],
    )
    override.full_clean()
    override.save()
    audit_log_write(
        actor=actor,
        action="subscription_override.created",
        obj=override,
        changes={
            "subscription": subscription.external_id,
            "kind": kind,
            "charge": charge.pk if charge else None,
            "feature": feature.slug if feature else None,
            "value": jsonable(clean_value),
            "valid_from": jsonable(valid_from),
            "valid_until": jsonable(valid_until),
        },
        reason=override.reason,
    )
    return override


@transaction.atomic
def subscription_override_end(
    *,
    override: SubscriptionOverride,
    at: datetime | None = None,
    actor: Any = None,
    reason: str = "",
) -> SubscriptionOverride | None:
    """End an override at ``at`` (now by default): it stops applying from then on.

    Ending an already ended override changes nothing. An override that would only have started
    at or after ``at`` never applied, so it is withdrawn (deleted; the audit row keeps it) and
    None is returned.
    """
    at = at or timezone.now()
    override = SubscriptionOverride.objects.select_for_update().get(pk=override.pk)
    if override.valid_until is not None and override.valid_until <= at:
        return override
    if override.valid_from is not None and override.valid_from >= at:
        audit_log_write(
            actor=actor,
            action="subscription_override.withdrawn",
            obj=override,
            changes={"kind": override.kind, "value": override.value},
            reason=reason,
        )
        override.delete()
        return None
    old = override.valid_until
    override.valid_until = at
    override.full_clean()
    override.save(update_fields=["valid_until"])
    audit_log_write(
        actor=actor,
        action="subscription_override.ended",
        obj=override,
        changes={"valid_until": {"old": jsonable(old), "new": jsonable(at)}},
        reason=reason,
    )
    return override
