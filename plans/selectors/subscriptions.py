"""Reads of subscriptions and overrides, and the preview of a version migration."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db.models import F, Q, QuerySet

from billing_site.core.exceptions import ApplicationError, NotFoundError
from plans.models import Charge, Customer, PlanVersion, Subscription, SubscriptionOverride

MigrationWhen = Literal["immediately", "next_period"]
MIGRATION_WHENS: tuple[str, ...] = ("immediately", "next_period")


def subscription_get(*, external_id: str) -> Subscription:
    subscription = (
        Subscription.objects.select_related("customer", "version__plan", "scheduled_version__plan")
        .filter(external_id=external_id)
        .first()
    )
    if subscription is None:
        raise NotFoundError(
            f"No subscription with external id {external_id!r}.",
            fields={"external_id": ["No such subscription."]},
        )
    return subscription


def subscriptions_for_customer(
    *, customer: Customer, status: str | None = None
) -> QuerySet[Subscription]:
    subscriptions = Subscription.objects.filter(customer=customer).select_related(
        "customer", "version__plan", "scheduled_version__plan"
    )
    if status:
        subscriptions = subscriptions.filter(status=status)
    return subscriptions.order_by("-started_at", "-id")


def subscription_overrides_list(
    *, subscription: Subscription, in_force_at: datetime | None = None
) -> QuerySet[SubscriptionOverride]:
    overrides = subscription.overrides.select_related("charge__metric", "feature")
    if in_force_at is not None:
        overrides = overrides.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=in_force_at),
            Q(valid_until__isnull=True) | Q(valid_until__gt=in_force_at),
        )
    return overrides.order_by("kind", F("valid_from").asc(nulls_first=True), "id")


def subscription_override_get(
    *, subscription: Subscription, override_id: int
) -> SubscriptionOverride:
    override = subscription_overrides_list(subscription=subscription).filter(pk=override_id).first()
    if override is None:
        raise NotFoundError(
            f"Subscription {subscription.external_id!r} has no override {override_id}.",
            fields={"override_id": ["No such override."]},
        )
    return override


@dataclass(frozen=True)
class MigrationMove:
    subscription: Subscription
    change_at: datetime


@dataclass(frozen=True)
class MigrationSkip:
    subscription: Subscription
    reason: str


@dataclass(frozen=True)
class MigrationPreview:
    from_version: PlanVersion
    to_version: PlanVersion
    when: str
    moves: tuple[MigrationMove, ...]
    skipped: tuple[MigrationSkip, ...]
    charges_without_counterpart: tuple[
        Charge, ...
    ]  # on from_version, no charge for the metric on to_version
    charges_added: tuple[Charge, ...]  # on to_version, for metrics from_version did not charge


def subscriptions_migration_preview(
    *,
    from_version: PlanVersion,
    to_version: PlanVersion,
    when: str,
    now: datetime,
    subscriptions: Iterable[Subscription] | None = None,
) -> MigrationPreview:
    """Which subscriptions of ``from_version`` would move to ``to_version`` and when, which
    cannot (and why), and which charges have no counterpart (matched by metric)."""
    if when not in MIGRATION_WHENS:
        raise ApplicationError(
            f"when must be one of {', '.join(MIGRATION_WHENS)}.",
            fields={"when": [f"Choose one of: {', '.join(MIGRATION_WHENS)}."]},
        )
    if from_version.pk == to_version.pk:
        raise ApplicationError(
            "Choose a different version to migrate to.",
            code="same_version",
            fields={"to_version": ["This is the version the subscriptions are on."]},
        )
    if to_version.status != PlanVersion.Status.PUBLISHED:
        raise ApplicationError(
            f"{to_version.plan.code} v{to_version.number} is {to_version.status}; subscriptions "
            "can only move to a published version.",
            code="version_not_published",
            fields={"to_version": [f"The version is {to_version.status}."]},
        )
    if to_version.currency != from_version.currency:
        raise ApplicationError(
            f"{to_version.plan.code} v{to_version.number} is priced in {to_version.currency}, "
            f"not {from_version.currency}.",
            code="currency_mismatch",
            fields={"to_version": ["The versions are priced in different currencies."]},
        )
    candidates = Subscription.objects.filter(version=from_version).select_related(
        "customer", "version__plan", "scheduled_version__plan"
    )
    if subscriptions is not None:
        wanted = [s.pk for s in subscriptions]
        elsewhere = Subscription.objects.filter(pk__in=wanted).exclude(version=from_version)
        if elsewhere.exists():
            ids = ", ".join(elsewhere.values_list("external_id", flat=True))
            raise ApplicationError(
                f"Not on {from_version.plan.code} v{from_version.number}: {ids}.",
                fields={"subscriptions": [f"Not on the version being migrated: {ids}."]},
            )
        candidates = candidates.filter(pk__in=wanted)
    moves: list[MigrationMove] = []
    skipped: list[MigrationSkip] = []
    for subscription in candidates.order_by("external_id"):
        if subscription.status not in (Subscription.Status.TRIALING, Subscription.Status.ACTIVE):
            skipped.append(MigrationSkip(subscription, f"it is {subscription.status}"))
        elif subscription.cancel_at_period_end:
            skipped.append(MigrationSkip(subscription, "it is canceled at period end"))
        else:
            change_at = now if when == "immediately" else subscription.current_period_end
            moves.append(MigrationMove(subscription, change_at))
    old_charges = list(from_version.charges.select_related("metric").order_by("position", "id"))
    new_charges = list(to_version.charges.select_related("metric").order_by("position", "id"))
    old_metrics = {c.metric_id for c in old_charges}
    new_metrics = {c.metric_id for c in new_charges}
    return MigrationPreview(
        from_version=from_version,
        to_version=to_version,
        when=when,
        moves=tuple(moves),
        skipped=tuple(skipped),
        charges_without_counterpart=tuple(c for c in old_charges if c.metric_id not in new_metrics),
        charges_added=tuple(c for c in new_charges if c.metric_id not in old_metrics),
    )
