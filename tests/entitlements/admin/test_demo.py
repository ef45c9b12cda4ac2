from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from credits.models import CreditDefinition, CreditGrant
from entitlements.models import UsageAlert
from entitlements.selectors import entitlement_get
from plans.models import Customer

pytestmark = pytest.mark.django_db


def test_demo_has_credits_and_customers_near_and_over_their_limits():
    # when: loaded twice
    call_command("load_demo", stdout=StringIO())
    call_command("load_demo", stdout=StringIO())
    # then: Professional's credits, refilled and billing-visible
    definition = CreditDefinition.objects.get(version__plan__code="professional")
    assert (definition.refill_amount, definition.renew_on_billing, definition.billing_visible) == (
        Decimal(10_000),
        True,
        True,
    )
    lifetime = CreditGrant.objects.get(customer__external_id="initrode")
    assert (lifetime.amount, lifetime.expires_at) == (Decimal(10_000), None)

    def check(external_id: str):
        customer = Customer.objects.get(external_id=external_id)
        return entitlement_get(customer=customer, feature="api_calls")

    assert check("initrode").credits == Decimal(500)
    assert check("soylent").reason == "limit_reached"
    near = check("initech")
    assert near.allowed
    assert near.used / near.limit >= Decimal("0.85")
    assert set(UsageAlert.objects.values_list("customer__external_id", "threshold")) >= {
        ("initech", 80),
        ("initrode", 80),
        ("soylent", 100),
    }
