"""Demo data of credits: Professional v2 includes 10,000 API calls a month as credits (refilled
each period, shown on the invoice) and acme moves to it; a Free plan whose customer, initrode,
holds a lifetime grant of 10,000 calls.

Runs after the catalog's demo and is idempotent: versions, customers and grants are found by
their plan, external ids and grant keys. Everything goes through the services.
"""

from decimal import Decimal
from typing import TextIO

from credits.models import CreditDefinition, CreditGrant
from credits.services import (
    credit_definition_set,
    credit_grant_create,
    credit_grants_for_subscription_ensure,
)
from plans.models import Feature, Plan, PlanVersion, Subscription
from plans.services import (
    customer_create,
    plan_create,
    plan_feature_set,
    plan_version_create_draft,
    plan_version_create_draft_from,
    plan_version_publish,
    subscription_change_plan,
    subscription_create,
)

INCLUDED_CALLS = Decimal(10_000)


def load(stdout: TextIO) -> None:
    calls = Feature.objects.filter(slug="api_calls").first()
    if calls is None:
        return  # the catalog's demo did not run
    _professional_with_credits(stdout, calls)
    _free_customer_with_lifetime_grant(stdout, calls)


def _professional_with_credits(stdout: TextIO, calls: Feature) -> None:
    plan = Plan.objects.filter(code="professional").first()
    if plan is None:
        return
    with_credits = CreditDefinition.objects.filter(version__plan=plan, feature=calls).first()
    if with_credits is None:
        latest = plan.versions.filter(status=PlanVersion.Status.PUBLISHED).order_by("-number")[0]
        draft = plan_version_create_draft_from(version=latest)
        credit_definition_set(
            version=draft,
            feature=calls,
            initial_amount=INCLUDED_CALLS,
            refill_amount=INCLUDED_CALLS,
            renew_on_billing=True,
            expiry_days=31,
            priority=10,
            billing_visible=True,
        )
        version = plan_version_publish(version=draft)
        stdout.write(
            f"Professional v{version.number}: 10,000 API calls a month as credits, refilled.\n"
        )
    else:
        version = with_credits.version
    for subscription in Subscription.objects.filter(
        version__plan=plan, status__in=("trialing", "active")
    ).exclude(version=version):
        subscription = subscription_change_plan(
            subscription=subscription,
            plan=plan,
            version_number=version.number,
            timing="immediately",
            reason="demo: move to the version with credits",
        )
        credit_grants_for_subscription_ensure(subscription=subscription)
        stdout.write(f"{subscription.external_id} moved to Professional v{version.number}.\n")


def _free_customer_with_lifetime_grant(stdout: TextIO, calls: Feature) -> None:
    plan = Plan.objects.filter(code="free").first()
    if plan is None:
        plan = plan_create(code="free", name="Free", description="10,000 API calls, for life.")
        draft = plan_version_create_draft(plan=plan, currency="USD", base_fee=Decimal(0))
        plan_feature_set(version=draft, feature=calls, limit=Decimal(0), cap="hard")
        plan_version_publish(version=draft)
    customer, _ = customer_create(
        external_id="initrode", name="Initrode", email="it@initrode.example"
    )
    subscription_create(customer=customer, plan=plan, external_id="initrode-free")
    if not CreditGrant.objects.filter(key="demo:initrode:lifetime").exists():
        credit_grant_create(
            customer=customer,
            feature=calls,
            amount=INCLUDED_CALLS,
            source=CreditGrant.Source.PROMOTION,
            reason="Free plan: 10,000 API calls for life",
            key="demo:initrode:lifetime",
        )
        stdout.write("initrode (Free) holds a lifetime grant of 10,000 API calls.\n")
