"""Builders for catalog tests: they go through the services, as the product does."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from metering.models import BillableMetric
from plans.models import Customer, Feature, Plan, PlanVersion, Subscription
from plans.services import (
    charge_create,
    customer_create,
    feature_create,
    plan_create,
    plan_version_create_draft,
    plan_version_publish,
    subscription_create,
)

SEED_GRADUATED = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 1000, "per_unit_amount": "0.02", "flat_amount": "0"},
        {"from_value": 1001, "to_value": 10000, "per_unit_amount": "0.01", "flat_amount": "0"},
        {"from_value": 10001, "to_value": None, "per_unit_amount": "0.005", "flat_amount": "0"},
    ]
}


def make_metric(code: str = "api-calls", **kwargs: Any) -> BillableMetric:
    metric, _ = BillableMetric.objects.get_or_create(
        code=code,
        defaults={
            "name": kwargs.pop("name", code.replace("-", " ").title()),
            "aggregation": "count",
        }
        | kwargs,
    )
    return metric


def make_customer(external_id: str = "acme", **kwargs: Any) -> Customer:
    customer, _ = customer_create(external_id=external_id, **kwargs)
    return customer


def make_plan(code: str = "professional", name: str | None = None) -> Plan:
    existing = Plan.objects.filter(code=code).first()
    return existing or plan_create(code=code, name=name or code.title())


def make_version(
    plan: Plan | None = None,
    *,
    publish: bool = False,
    charges: dict[str, tuple[str, dict]] | None = None,
    base_fee: Decimal = Decimal("49.00"),
    **kwargs: Any,
) -> PlanVersion:
    """A draft (or published) version; ``charges`` maps metric code -> (model, properties)."""
    plan = plan or make_plan()
    version = plan_version_create_draft(plan=plan, base_fee=base_fee, **kwargs)
    for code, (model, properties) in (charges or {}).items():
        charge_create(
            version=version, metric=make_metric(code), charge_model=model, properties=properties
        )
    if publish:
        version = plan_version_publish(version=version)
    return version


def make_published_plan(code: str = "professional", **kwargs: Any) -> PlanVersion:
    kwargs.setdefault("charges", {"api-calls": ("graduated", SEED_GRADUATED)})
    return make_version(make_plan(code), publish=True, **kwargs)


def make_subscription(
    version: PlanVersion | None = None,
    customer: Customer | None = None,
    *,
    started_at: datetime | None = None,
    **kwargs: Any,
) -> Subscription:
    version = version or make_published_plan()
    subscription, _ = subscription_create(
        customer=customer or make_customer(),
        plan=version.plan,
        version_number=version.number,
        started_at=started_at,
        **kwargs,
    )
    return subscription


def make_feature(slug: str = "sso", kind: str = "boolean", **kwargs: Any) -> Feature:
    existing = Feature.objects.filter(slug=slug).first()
    if existing:
        return existing
    if kind == "metered" and "metric" not in kwargs:
        kwargs["metric"] = make_metric()
    return feature_create(slug=slug, name=slug.title(), kind=kind, **kwargs)
