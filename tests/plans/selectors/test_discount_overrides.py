from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from plans.models import SubscriptionOverride
from plans.pricing import price
from plans.selectors import pricing_for_subscription
from plans.services import subscription_override_create
from tests.plans.factories import make_published_plan, make_subscription

pytestmark = pytest.mark.django_db

AT = datetime(2025, 3, 10, tzinfo=UTC)


@pytest.fixture
def subscription():
    return make_subscription(make_published_plan(), started_at=datetime(2025, 1, 1, tzinfo=UTC))


def test_a_base_fee_discount_lowers_the_versions_fee(subscription):
    # given
    subscription_override_create(
        subscription=subscription,
        kind="base_fee",
        value={"discount_percent": "12.5"},
        reason="loyalty",
    )
    # when
    pricing = pricing_for_subscription(subscription=subscription, at=AT)
    # then
    assert pricing.base_fee == Decimal("42.875")


def test_a_charge_discount_lowers_what_the_usage_costs(subscription):
    # given
    charge = subscription.version.charges.get()
    subscription_override_create(
        subscription=subscription,
        kind="charge",
        charge=charge,
        value={"discount_percent": "20"},
        reason="pilot",
    )
    # when
    effective = pricing_for_subscription(subscription=subscription, at=AT).charge_for_metric(
        "api-calls"
    )
    # then: 1,000 x 0.02 + 9,000 x 0.01 + 5,000 x 0.005 = 135.00 before, 108.00 after
    assert effective.charge_model == "graduated"
    assert price("graduated", charge.properties, Decimal("15000")).amount == Decimal("135.000")
    assert price("graduated", effective.properties, Decimal("15000")).amount == Decimal("108")


def test_a_charge_override_can_set_tiers_and_discount_them(subscription):
    # given
    charge = subscription.version.charges.get()
    tiers = [
        {"from_value": 0, "to_value": 10000, "per_unit_amount": "0", "flat_amount": "0"},
        {"from_value": 10001, "to_value": None, "per_unit_amount": "0.002", "flat_amount": "0"},
    ]
    subscription_override_create(
        subscription=subscription,
        kind="charge",
        charge=charge,
        value={"properties": {"graduated_ranges": tiers}, "discount_percent": "50"},
        reason="pilot",
    )
    # when
    effective = pricing_for_subscription(subscription=subscription, at=AT).charge_for_metric(
        "api-calls"
    )
    # then
    assert price("graduated", effective.properties, Decimal("20000")).amount == Decimal("10")


@pytest.mark.parametrize(
    ("_case", "value", "field"),
    [
        ("amount and discount", {"amount": "10", "discount_percent": "5"}, "value.amount"),
        ("neither", {}, "value.amount"),
        ("a discount over 100%", {"discount_percent": "120"}, "value.discount_percent"),
        ("a zero discount", {"discount_percent": "0"}, "value.discount_percent"),
    ],
)
def test_a_base_fee_override_takes_one_amount_or_one_valid_discount(
    subscription, _case, value, field
):
    # when
    with pytest.raises(ValidationError) as error:
        subscription_override_create(
            subscription=subscription, kind="base_fee", value=value, reason="x"
        )
    # then
    assert field in error.value.message_dict
    assert SubscriptionOverride.objects.count() == 0
