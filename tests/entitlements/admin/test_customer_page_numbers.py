from decimal import Decimal

import pytest
from django.urls import reverse

from entitlements.services import entitlement_consume
from plans.models import Feature
from tests.entitlements.factories import grant, subscribe

pytestmark = pytest.mark.django_db


def test_the_customer_page_groups_usage_limits_and_credits_by_thousands(admin_client):
    # given: 1,000 of 100,000 calls used, 25,000 credits granted
    customer, _, feature = subscribe(limit=Decimal(100000))
    grant(customer, feature, "25000", reason="Launch")
    entitlement_consume(
        customer=customer, feature="api-calls", quantity=Decimal(1000), transaction_id="a"
    )
    # when
    html = admin_client.get(reverse("admin:plans_customer_change", args=[customer.pk]))
    page = html.content.decode()
    # then
    assert "1,000 / 100,000" in page
    assert '<span class="c360-balance" id="credit-balance">25,000</span>' in page
    assert "E+" not in page


def test_the_grant_confirmation_groups_the_amount(admin_client):
    # given
    customer, _, _ = subscribe(limit=Decimal(0))
    url = reverse("admin:plans_customer_grant_credits", args=[customer.pk])
    data = {
        "feature": str(Feature.objects.get(slug="api-calls").pk),
        "amount": "10000",
        "source": "manual",
        "priority": "10",
        "expires_at": "",
        "reason": "Enterprise trial",
    }
    # when
    review = admin_client.post(url, data)
    # then
    assert "Grant <strong>10,000</strong> units of" in review.content.decode()
