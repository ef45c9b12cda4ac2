"""Grants and what plan versions grant: definitions, staff grants, plan allowances and
refills (credit-allowance overrides applied), and expiry. Every grant is idempotent on its key."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from billing_site.core.audit import actor_label, actor_user, audit_log_write
from billing_site.core.exceptions import ApplicationError
from credits.models import CreditDefinition, CreditGrant, CreditLedgerEntry
from credits.selectors import ZERO
from plans.models import Customer, Feature, PlanVersion, Subscription
from plans.selectors import pricing_for_subscription

Kind = CreditLedgerEntry.Kind


def _positive(amount: Any, field: str = "amount") -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int | str):
        raise ValidationError({field: ["Give a decimal number of units."]})
    value = Decimal(str(amount))
    if not value.is_finite() or value <= 0:
        raise ValidationError({field: ["The amount must be greater than zero."]})
    return value


def _metered(feature: Feature) -> None:
    if feature.kind != Feature.Kind.METERED:
        raise ValidationError(
            {"feature": [f"Credits are units of a metered feature; {feature.slug} is not one."]}
        )


@transaction.atomic
def credit_definition_set(
    *,
    version: PlanVersion,
    feature: Feature,
    initial_amount: Decimal = ZERO,
    refill_amount: Decimal = ZERO,
    renew_on_billing: bool = False,
    expiry_days: int | None = None,
    priority: int = 50,
    billing_visible: bool = True,
    actor: Any = None,
) -> CreditDefinition:
    """Create or replace the feature's credits on a draft version (published ones are frozen)."""
    locked = PlanVersion.objects.select_for_update().select_related("plan").get(pk=version.pk)
    if locked.status != PlanVersion.Status.DRAFT:
        raise ApplicationError(
            f"{locked.plan.code} v{locked.number} is {locked.status}; credits are part of the "
            "version and change only on a new draft.",
            code="version_published",
            status=409,
        )
    _metered(feature)
    definition = CreditDefinition.objects.filter(version=locked, feature=feature).first()
    definition = definition or CreditDefinition(version=locked, feature=feature)
    definition.initial_amount = Decimal(str(initial_amount))
    definition.refill_amount = Decimal(str(refill_amount))
    definition.renew_on_billing = renew_on_billing
    definition.expiry_days = expiry_days
    definition.priority = priority
    definition.billing_visible = billing_visible
    definition.full_clean()
    if renew_on_billing and definition.refill_amount <= 0:
        raise ValidationError({"refill_amount": ["A renewing allowance needs a refill amount."]})
    definition.save()
    audit_log_write(
        actor=actor,
        action="credit_definition.set",
        obj=definition,
        changes={
            "feature": feature.slug,
            "initial_amount": definition.initial_amount,
            "refill_amount": definition.refill_amount,
            "renew_on_billing": renew_on_billing,
            "expiry_days": expiry_days,
            "priority": priority,
            "billing_visible": billing_visible,
        },
    )
    return definition


@transaction.atomic
def credit_definition_remove(*, definition: CreditDefinition, actor: Any = None) -> None:
    locked = (
        PlanVersion.objects.select_for_update().select_related("plan").get(pk=definition.version_id)
    )
    if locked.status != PlanVersion.Status.DRAFT:
        raise ApplicationError(
            f"{locked.plan.code} v{locked.number} is {locked.status}; its credits are frozen.",
            code="version_published",
            status=409,
        )
    audit_log_write(
        actor=actor,
        action="credit_definition.removed",
        obj=definition,
        changes={"feature": definition.feature.slug},
    )
    definition.delete()


@transaction.atomic
def credit_grant_create(
    *,
    customer: Customer,
    feature: Feature,
    amount: Decimal,
    source: str,
    reason: str = "",
    actor: Any = None,
    subscription: Subscription | None = None,
    definition: CreditDefinition | None = None,
    priority: int = 50,
    effective_at: datetime | None = None,
    expires_at: datetime | None = None,
    billing_visible: bool = True,
    key: str | None = None,
) -> CreditGrant:
    """Grant units of a metered feature; idempotent on ``key`` (a retry returns the first grant).

    Staff grants (source ``manual``/``promotion``) need a reason. ``expires_at`` None is a
    lifetime allowance."""
    amount = _positive(amount)
    _metered(feature)
    if source in (CreditGrant.Source.MANUAL, CreditGrant.Source.PROMOTION) and not reason.strip():
        raise ValidationError({"reason": ["Say why these credits are granted."]})
    effective_at = effective_at or timezone.now()
    if expires_at is not None and expires_at <= effective_at:
        raise ValidationError({"expires_at": ["A grant must expire after it takes effect."]})
    if key:
        existing = CreditGrant.objects.filter(key=key).first()
        if existing is not None:
            return existing
    grant = CreditGrant(
        customer=customer,
        subscription=subscription,
        feature=feature,
        definition=definition,
        amount=amount,
        priority=priority,
        effective_at=effective_at,
        expires_at=expires_at,
        source=source,
        billing_visible=billing_visible,
        reason=reason.strip(),
        key=key or f"grant:{uuid.uuid4()}",
        actor=actor_user(actor),
        actor_label=actor_label(actor)[:150],
    )
    grant.full_clean()
    grant.save()
    CreditLedgerEntry.objects.create(
        grant=grant,
        customer=customer,
        feature=feature,
        kind=Kind.GRANT,
        amount=amount,
        occurred_at=effective_at,
        key=f"grant:{grant.pk}",
        reference=grant.key,
        reason=grant.reason,
        actor_label=grant.actor_label,
    )
    audit_log_write(
        actor=actor,
        action="credit_grant.created",
        obj=grant,
        changes={
            "customer": customer.external_id,
            "feature": feature.slug,
            "amount": amount,
            "source": source,
            "priority": priority,
            "effective_at": effective_at,
            "expires_at": expires_at,
        },
        reason=grant.reason,
    )
    return grant


def credit_grants_expire(*, at: datetime | None = None) -> int:
    """Write an ``expire`` row taking what is left of each grant past its expiry; idempotent (the
    row's key is the grant's, and an expired grant has nothing left). Returns grants expired."""
    at = at or timezone.now()
    due = (
        CreditGrant.objects.filter(expires_at__lte=at)
        .annotate(left=Sum("entries__amount"))
        .filter(left__gt=0)
        .values_list("pk", flat=True)
    )
    expired = 0
    for grant_id in due:
        with transaction.atomic():
            grant = CreditGrant.objects.select_for_update().get(pk=grant_id)
            left = grant.entries.aggregate(total=Sum("amount"))["total"] or ZERO
            key = f"expire:{grant.pk}"
            if left <= 0 or CreditLedgerEntry.objects.filter(key=key).exists():
                continue
            CreditLedgerEntry.objects.create(
                grant=grant,
                customer_id=grant.customer_id,
                feature_id=grant.feature_id,
                kind=Kind.EXPIRE,
                amount=-left,
                occurred_at=grant.expires_at,
                key=key,
                reference=grant.key,
                reason=f"Expired at {grant.expires_at.isoformat()}",
                actor_label="system",
            )
            expired += 1
    return expired


ALLOWANCE_KEYS = (
    "initial_amount",
    "refill_amount",
    "renew_on_billing",
    "expiry_days",
    "priority",
    "billing_visible",
)


@dataclass(frozen=True)
class AllowanceTerms:
    """What a subscription is owed of one feature: a plan version's definition, or that
    definition as a credit-allowance override changes it (``key`` tells their grants apart)."""

    feature: Feature
    definition: CreditDefinition | None
    key: str
    initial_amount: Decimal
    refill_amount: Decimal
    renew_on_billing: bool
    expiry_days: int | None
    priority: int
    billing_visible: bool

    def expiry(self, effective: datetime) -> datetime | None:
        return effective + timedelta(days=self.expiry_days) if self.expiry_days else None


def allowance_override_errors(value: dict[str, Any]) -> dict[str, list[str]]:
    """A credit-allowance override's value: any of ALLOWANCE_KEYS."""
    errors: dict[str, list[str]] = {}
    for key, item in value.items():
        if key not in ALLOWANCE_KEYS:
            errors[f"value.{key}"] = [f"Unknown key; expected: {', '.join(ALLOWANCE_KEYS)}."]
        elif key in ("initial_amount", "refill_amount"):
            try:
                if Decimal(str(item)) < 0:
                    raise ValueError
            except (ArithmeticError, ValueError):
                errors[f"value.{key}"] = ["A decimal number of units, not negative."]
        elif key in ("renew_on_billing", "billing_visible") and not isinstance(item, bool):
            errors[f"value.{key}"] = ["true or false."]
        elif key in ("expiry_days", "priority") and item is not None and not isinstance(item, int):
            errors[f"value.{key}"] = ["A whole number."]
    return errors


def allowance_terms_for(*, subscription: Subscription, at: datetime) -> list[AllowanceTerms]:
    """The version's credit definitions, with the credit-allowance overrides in force at ``at``
    applied feature by feature (an override may also add a feature the version has none for)."""
    terms: dict[int, AllowanceTerms] = {
        d.feature_id: AllowanceTerms(
            feature=d.feature,
            definition=d,
            key=f"{subscription.pk}:{d.pk}",
            initial_amount=d.initial_amount,
            refill_amount=d.refill_amount,
            renew_on_billing=d.renew_on_billing,
            expiry_days=d.expiry_days,
            priority=d.priority,
            billing_visible=d.billing_visible,
        )
        for d in CreditDefinition.objects.filter(version_id=subscription.version_id)
        .select_related("feature")
        .order_by("id")
    }
    pricing = pricing_for_subscription(subscription=subscription, at=at)
    allowances = [a for a in pricing.credit_allowances if a.feature_id is not None]
    features = Feature.objects.in_bulk([a.feature_id for a in allowances])
    for allowance in allowances:
        value = dict(allowance.value)
        if allowance_override_errors(value) or allowance.feature_id not in features:
            continue  # the catalog stores an allowance as given: an invalid one grants nothing
        base = terms.get(allowance.feature_id)
        fields = {
            "initial_amount": Decimal(
                str(value.get("initial_amount", base.initial_amount if base else 0))
            ),
            "refill_amount": Decimal(
                str(value.get("refill_amount", base.refill_amount if base else 0))
            ),
            "renew_on_billing": value.get(
                "renew_on_billing", base.renew_on_billing if base else False
            ),
            "expiry_days": value.get("expiry_days", base.expiry_days if base else None),
            "priority": value.get("priority", base.priority if base else 50),
            "billing_visible": value.get("billing_visible", base.billing_visible if base else True),
        }
        terms[allowance.feature_id] = AllowanceTerms(
            feature=features[allowance.feature_id],
            definition=base.definition if base else None,
            key=f"{subscription.pk}:override{allowance.override_id}",
            **fields,
        )
    return list(terms.values())


@transaction.atomic
def credit_grants_for_subscription_ensure(
    *, subscription: Subscription, at: datetime | None = None
) -> list[CreditGrant]:
    """The grants a subscription's credit allowances owe it by ``at``: the initial amount once,
    and (``renew_on_billing``) the refill for the period holding ``at`` after the first one. A
    credit-allowance override replaces the version's terms for its feature (its initial amount is
    granted once, when it is first in force). Idempotent: keys name the subscription, the
    definition or override, and the period."""
    at = at or timezone.now()
    created: list[CreditGrant] = []
    if not subscription.is_live:
        return created
    start, end = subscription.current_period_start, subscription.current_period_end
    customer = subscription.customer
    for terms in allowance_terms_for(subscription=subscription, at=at):
        owed: list[tuple[str, Decimal, str, str, datetime]] = []
        if terms.initial_amount > 0:
            owed.append(
                (
                    f"plan:{terms.key}",
                    terms.initial_amount,
                    CreditGrant.Source.PLAN,
                    f"{subscription.version} allowance",
                    subscription.started_at
                    if terms.definition
                    else max(start, subscription.started_at),
                )
            )
        if (
            terms.renew_on_billing
            and terms.refill_amount > 0
            and start > subscription.started_at
            and start <= at < end
        ):
            owed.append(
                (
                    f"refill:{terms.key}:{start.isoformat()}",
                    terms.refill_amount,
                    CreditGrant.Source.REFILL,
                    f"{subscription.version} refill from {start:%Y-%m-%d}",
                    start,
                )
            )
        for key, amount, source, reason, effective_at in owed:
            if CreditGrant.objects.filter(key=key).exists():
                continue
            created.append(
                credit_grant_create(
                    customer=customer,
                    feature=terms.feature,
                    amount=amount,
                    source=source,
                    reason=reason,
                    subscription=subscription,
                    definition=terms.definition,
                    priority=terms.priority,
                    effective_at=effective_at,
                    expires_at=terms.expiry(effective_at),
                    billing_visible=terms.billing_visible,
                    key=key,
                )
            )
    return created
