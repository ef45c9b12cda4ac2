"""Builders for credits and entitlements tests, through the services."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from credits.services import credit_grant_create
from plans.models import Customer, Feature, PlanVersion, Subscription
from plans.services import plan_feature_set, plan_version_publish
from tests.plans.factories import (
    make_customer,
    make_feature,
    make_metric,
    make_plan,
    make_subscription,
    make_version,
)

STARTED = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


def plan_with_feature(
    *,
    plan: str = "professional",
    slug: str = "api-calls",
    kind: str = "metered",
    metric: str = "api-calls",
    publish: bool = True,
    **value: Any,
) -> tuple[PlanVersion, Feature]:
    """A published version of ``plan`` giving ``slug`` its ``value`` (limit, cap, ...)."""
    feature = (
        make_feature(slug, kind="metered", metric=make_metric(metric))
        if kind == "metered"
        else make_feature(slug, kind=kind)
    )
    version = make_version(make_plan(plan), charges={metric: ("standard", {"amount": "0.01"})})
    plan_feature_set(version=version, feature=feature, **value)
    if publish:
        version = plan_version_publish(version=version)
    return version, feature


def subscribe(
    customer: str = "acme", *, version: PlanVersion | None = None, **value: Any
) -> tuple[Customer, Subscription, Feature]:
    slug = value.pop("slug", "api-calls")
    if version is None:
        version, feature = plan_with_feature(slug=slug, **value)
    else:
        feature = Feature.objects.get(slug=slug)
    buyer = make_customer(customer)
    subscription = make_subscription(version, buyer, started_at=STARTED)
    return buyer, subscription, feature


def grant(customer: Customer, feature: Feature, amount: str, **kwargs: Any):
    kwargs.setdefault("source", "manual")
    kwargs.setdefault("reason", "test grant")
    kwargs.setdefault("effective_at", STARTED)
    return credit_grant_create(customer=customer, feature=feature, amount=Decimal(amount), **kwargs)
