from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from plans.models import (
    Charge,
    Customer,
    Plan,
    PlanFeature,
    PlanVersion,
    Subscription,
    SubscriptionOverride,
)
from plans.selectors import charge_usage_for_period, pricing_for_subscription

pytestmark = pytest.mark.django_db

CATALOG = (Plan, PlanVersion, Charge, PlanFeature, Customer, Subscription, SubscriptionOverride)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in CATALOG}


def test_load_demo_twice_creates_the_catalog_once():
    # given
    call_command("load_demo", stdout=StringIO())
    first = _counts()
    # when
    out = StringIO()
    call_command("load_demo", stdout=out)
    # then
    assert _counts() == first
    assert "Plans published" not in out.getvalue()
    # the catalog's six plans, plus (from the credits demo) Professional v2 with credits and
    # the Free plan, (from the entitlements demo) initrode and soylent, and (from the parity
    # demo) the per-seat and llm-regions plans with wonka and tyrell
    assert first == {
        "Plan": 9,
        "PlanVersion": 10,
        "Charge": 12,
        "PlanFeature": 15,
        # ... and (from the invoice history, invoices/demo.py) stark and wayne
        "Customer": 11,
        "Subscription": 11,
        "SubscriptionOverride": 1,
    }


def test_demo_plans_are_published_and_priced_as_the_seed_guide_says():
    # when
    call_command("load_demo", stdout=StringIO())
    # then
    versions = {
        v.plan.code: (v.status, str(v.base_fee), v.interval, v.trial_days)
        for v in PlanVersion.objects.select_related("plan").filter(number=1)
    }
    assert versions == {
        "trial": ("published", "1.0000", "week", 7),
        "starter": ("published", "19.0000", "month", 0),
        "professional": ("published", "49.0000", "month", 0),
        "enterprise": ("published", "99.0000", "month", 0),
        "payg": ("published", "0.0000", "month", 0),
        "team": ("published", "29.0000", "month", 0),
        "free": ("published", "0.0000", "month", 0),
        "per-seat": ("published", "0.0000", "month", 0),
        "llm-regions": ("published", "0.0000", "month", 0),
    }
    subscriptions = dict(
        Subscription.objects.values_list("customer__external_id", "version__plan__code")
    )
    assert subscriptions == {
        "acme": "professional",
        "globex": "enterprise",
        "initech": "starter",
        "umbrella": "team",
        "hooli": "payg",
        "initrode": "free",
        "soylent": "trial",
        "wonka": "per-seat",
        "tyrell": "llm-regions",
        "stark": "professional",  # the invoice history (invoices/demo.py)
        "wayne": "team",
    }
    override = SubscriptionOverride.objects.get()
    assert (override.subscription.customer.external_id, override.value) == (
        "acme",
        {"amount": "39.00"},
    )
    assert override.reason == "negotiated discount"


def test_the_demo_bills_prorated_seats_and_region_filtered_tokens_by_model():
    # given the demo month
    call_command("load_demo", stdout=StringIO())
    wonka = Subscription.objects.get(customer__external_id="wonka")
    tyrell = Subscription.objects.get(customer__external_id="tyrell")
    # when
    seats = _charge_usage(wonka)
    tokens = _charge_usage(tyrell)
    # then wonka's seats come and go, prorated by day; tyrell's tokens split by region and model
    (seat_result,) = seats.results
    assert {p.unit for p in seat_result.prorations} >= {"user-2", "user-5", "user-9"}
    assert 0 < seat_result.units < 9
    assert {r.display_name for r in tokens.results} == {"LLM tokens, EU", "LLM tokens, US"}
    assert {r.group["model"] for r in tokens.results} == {
        "openai/gpt-4o-mini",
        "openai/gpt-4o",
        "anthropic/claude-3-5-sonnet",
    }
    assert tokens.amount > 0


def _charge_usage(subscription):
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(days=30)
    (charge,) = pricing_for_subscription(subscription=subscription, at=end).charges
    return charge_usage_for_period(subscription=subscription, charge=charge, start=start, end=end)
