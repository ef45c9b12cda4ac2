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
    assert first == {
        "Plan": 6,
        "PlanVersion": 6,
        "Charge": 8,
        "PlanFeature": 12,
        # 5 of the catalog's demo, 2 of the invoice history (invoices/demo.py)
        "Customer": 7,
        "Subscription": 7,
        "SubscriptionOverride": 1,
    }


def test_demo_plans_are_published_and_priced_as_the_seed_guide_says():
    # when
    call_command("load_demo", stdout=StringIO())
    # then
    versions = {
        v.plan.code: (v.status, str(v.base_fee), v.interval, v.trial_days)
        for v in PlanVersion.objects.select_related("plan")
    }
    assert versions == {
        "trial": ("published", "1.0000", "week", 7),
        "starter": ("published", "19.0000", "month", 0),
        "professional": ("published", "49.0000", "month", 0),
        "enterprise": ("published", "99.0000", "month", 0),
        "payg": ("published", "0.0000", "month", 0),
        "team": ("published", "29.0000", "month", 0),
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
        "stark": "professional",  # the invoice history (invoices/demo.py)
        "wayne": "team",
    }
    override = SubscriptionOverride.objects.get()
    assert (override.subscription.customer.external_id, override.value) == (
        "acme",
        {"amount": "39.00"},
    )
    assert override.reason == "negotiated discount"
