"""What is in force for a customer and a feature: the live subscription, its plan value and
override, and the billing period around a moment."""

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from billing_site.core.exceptions import NotFoundError
from billing_site.core.periods import period_containing
from billing_site.core.sql import prepared_fetchone
from entitlements.selectors.window import Prefetched
from entitlements.sql import (
    FEATURE_IN_FORCE_BY_EXTERNAL_ID,
    FEATURE_IN_FORCE_BY_ID,
)
from plans.models import Customer, Subscription
from plans.selectors import EffectiveFeature, EffectivePricing

LIVE = (Subscription.Status.TRIALING, Subscription.Status.ACTIVE)


def live_subscriptions(*, customer: Customer) -> list[Subscription]:
    return list(
        Subscription.objects.filter(customer=customer, status__in=LIVE)
        .select_related("version__plan", "scheduled_version__plan")
        .order_by("started_at", "id")
    )


def billing_period_at(subscription: Any, interval: str, at: datetime) -> tuple[datetime, datetime]:
    """The stored current period, or the one holding ``at`` when the period has moved on and the
    beat task has not advanced it yet."""
    if subscription.current_period_start <= at < subscription.current_period_end:
        return subscription.current_period_start, subscription.current_period_end
    return period_containing(subscription.billing_anchor, at, interval, subscription.billing_time)


@dataclass(frozen=True)
class InForce:
    """The live subscription a decision is about, and its billing period at the decision's
    time."""

    subscription_id: int
    subscription_external_id: str
    started_at: datetime
    period_start: datetime
    period_end: datetime
    version_id: int
    plan_code: str

    @classmethod
    def of(cls, subscription: Subscription, pricing: EffectivePricing, at: datetime) -> "InForce":
        start, end = billing_period_at(subscription, pricing.interval, at)
        return cls(
            subscription.pk,
            subscription.external_id,
            subscription.started_at,
            start,
            end,
            pricing.version_id,
            pricing.plan_code,
        )


@dataclass(frozen=True)
class _SubscriptionRow:
    current_period_start: datetime
    current_period_end: datetime
    billing_anchor: datetime
    billing_time: str


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def feature_in_force(
    customer: Customer | None,
    slug: str,
    at: datetime,
    *,
    external_id: str | None = None,
) -> tuple[InForce | None, EffectiveFeature | None, str | None, Customer, "Prefetched | None"]:
    """One statement (``entitlements.sql.FEATURE_IN_FORCE``): the customer (given, or found by
    ``external_id``: NotFoundError if none), its live subscription with the feature and the
    feature's effective value, plan then override. Without a live subscription the first two are
    None; when no subscription has the feature, the second is."""
    params = {
        "customer_id": customer.pk if customer is not None else None,
        "external_id": None if customer is not None else external_id,
        "slug": slug,
        "at": at,
    }
    sql = FEATURE_IN_FORCE_BY_ID if customer is not None else FEATURE_IN_FORCE_BY_EXTERNAL_ID
    row = prepared_fetchone(sql, params)
    in_force, effective, plan_code, customer, rest = in_force_of_row(
        row, customer, at, external_id=external_id
    )
    if effective is None or effective.metric_id is None or rest is None:
        return in_force, effective, plan_code, customer, None
    return in_force, effective, plan_code, customer, Prefetched(*rest[:8])


def in_force_of_row(
    row: tuple[Any, ...] | None,
    customer: Customer | None,
    at: datetime,
    *,
    external_id: str | None,
) -> tuple[InForce | None, EffectiveFeature | None, str | None, Customer, tuple[Any, ...] | None]:
    """The customer, feature in force and effective value from a row of a statement built on
    ``entitlements.sql._FEATURE_IN_FORCE``, and the columns it selects after them (None when the
    feature is not in force)."""
    if row is None:
        raise NotFoundError(
            f"No customer with external id {external_id!r}.",
            fields={"external_id": ["No such customer."]},
        )
    customer = customer or Customer(pk=row[0], external_id=row[1])
    row = row[2:]
    if row[0] is None:
        return None, None, None, customer, None
    (sub_id, sub_ext, started_at, period_start, period_end, anchor, billing_time) = row[:7]
    (version_id, interval, plan_code, feature_id, feature_slug, kind, metric_id) = row[7:14]
    (on_plan, enabled, value, limit, reset_period, cap, thresholds, override_id) = row[14:22]
    # Django's connection hands jsonb back as text (its fields decode it): decode it here.
    override = _json(row[22]) or {}
    value = _json(value)
    start, end = billing_period_at(
        _SubscriptionRow(period_start, period_end, anchor, billing_time), interval, at
    )
    in_force = InForce(sub_id, sub_ext, started_at, start, end, version_id, plan_code)
    if feature_id is None or (not on_plan and override_id is None):
        return in_force, None, plan_code, customer, None
    if not on_plan:  # only an override grants it (as pricing_for_subscription does)
        enabled, value, limit, thresholds = True, None, None, None
        reset_period, cap = "billing", "hard"
    effective = EffectiveFeature(
        feature_id=feature_id,
        slug=feature_slug,
        kind=kind,
        metric_id=metric_id,
        enabled=override.get("enabled", enabled),
        value=override.get("value", value),
        limit=_decimal(override["limit"]) if "limit" in override else _decimal(limit),
        reset_period=override.get("reset_period", reset_period),
        cap=override.get("cap", cap),
        on_plan=on_plan,
        override_id=override_id,
        alert_thresholds=tuple(thresholds) if thresholds is not None else (80, 100),
    )
    return in_force, effective, plan_code, customer, row[24:]
