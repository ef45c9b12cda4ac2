"""The override page: fields instead of JSON, every refusal a form message."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from plans.models import Subscription, SubscriptionOverride
from plans.services import subscription_override_create
from tests.plans.admin.conftest import form_data, tier_rows
from tests.plans.factories import make_customer, make_feature, make_subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription(starter_v1) -> Subscription:
    return make_subscription(
        starter_v1,
        make_customer("acme"),
        external_id="sub-acme",
        started_at=timezone.now() - timedelta(days=3),
    )


def add_url(subscription: Subscription) -> str:
    return reverse("admin:plans_subscription_override_add", args=[subscription.pk])


def posted(admin_client, subscription, **fields: str) -> dict[str, str]:
    """The page's form as the browser would send it, with ``fields`` typed in."""
    return form_data(admin_client.get(add_url(subscription)), "override_form") | fields


def test_a_base_fee_discount_is_one_field(admin_client, subscription):
    # given
    data = posted(
        admin_client, subscription, kind="base_fee", discount_percent="20", reason="loyalty"
    )
    # when
    response = admin_client.post(add_url(subscription), data)
    # then
    assert response.status_code == 302
    override = SubscriptionOverride.objects.get(subscription=subscription)
    assert (override.kind, override.value) == ("base_fee", {"discount_percent": "20"})
    assert override.created_by_label == "admin"


def test_a_charge_price_is_typed_in_the_tier_editor_with_a_time_zone(admin_client, subscription):
    # given
    charge = subscription.version.charges.get()
    data = posted(admin_client, subscription, kind="charge", reason="pilot")
    data |= tier_rows(("0", "10000", "0", ""), ("10001", "", "0.002", ""))
    data |= {
        "charge": str(charge.pk),
        "charge_model": "graduated",
        "valid_until": "2027-01-30 00:00 +01:00",
    }
    # when
    response = admin_client.post(add_url(subscription), data)
    # then
    assert response.status_code == 302
    override = SubscriptionOverride.objects.get(subscription=subscription)
    assert override.value == {
        "charge_model": "graduated",
        "properties": {
            "graduated_ranges": [
                {"from_value": 0, "to_value": 10000, "per_unit_amount": "0", "flat_amount": "0"},
                {
                    "from_value": 10001,
                    "to_value": None,
                    "per_unit_amount": "0.002",
                    "flat_amount": "0",
                },
            ]
        },
    }
    assert override.valid_until == datetime(2027, 1, 29, 23, 0, tzinfo=UTC)


def test_the_override_is_listed_as_a_sentence(admin_client, subscription):
    # given
    charge = subscription.version.charges.get()
    subscription_override_create(
        subscription=subscription,
        kind="charge",
        charge=charge,
        value={"discount_percent": "25"},
        valid_until=datetime(2027, 1, 30, tzinfo=UTC),
        reason="pilot",
    )
    # when
    page = admin_client.get(reverse("admin:plans_subscription_change", args=[subscription.pk]))
    # then
    html = page.content.decode()
    assert "API calls: 25% off until 2027-01-30 UTC" in html
    assert "discount_percent" not in html
    assert add_url(subscription) in html


@pytest.mark.parametrize(
    ("_case", "fields", "message"),
    [
        (
            "a window that ends before it starts",
            {
                "kind": "base_fee",
                "discount_percent": "10",
                "valid_from": "2027-02-01 00:00",
                "valid_until": "2027-01-01 00:00",
            },
            "The override would end before it starts: choose an end after 2027-02-01 UTC.",
        ),
        (
            "a discount over 100%",
            {"kind": "base_fee", "discount_percent": "120"},
            "A discount is more than 0% and at most 100%.",
        ),
        (
            "both a base fee and a discount",
            {"kind": "base_fee", "discount_percent": "10", "base_amount": "30"},
            "Give either a new base fee or a discount, not both.",
        ),
        (
            "a charge override without its charge",
            {"kind": "charge", "discount_percent": "10"},
            "Choose the charge this override changes.",
        ),
        (
            "a charge override with neither price nor discount",
            {"kind": "charge"},
            "Give the charge a new price, a discount, or both.",
        ),
        (
            "a date that is not one",
            {"kind": "base_fee", "discount_percent": "10", "valid_from": "next tuesday"},
            "Enter a valid date/time.",
        ),
    ],
)
def test_each_refusal_is_a_form_message(admin_client, subscription, _case, fields, message):
    # given
    data = posted(admin_client, subscription, reason="because", **fields)
    # when
    response = admin_client.post(add_url(subscription), data)
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "plans_override_" not in html  # no database constraint name
    assert not SubscriptionOverride.objects.exists()


def test_an_overlap_the_service_finds_is_a_form_message(admin_client, subscription):
    # given
    first = subscription_override_create(
        subscription=subscription, kind="base_fee", value={"amount": "10"}, reason="promo"
    )
    data = posted(
        admin_client, subscription, kind="base_fee", discount_percent="20", reason="loyalty"
    )
    # when
    response = admin_client.post(add_url(subscription), data)
    # then
    assert response.status_code == 200
    assert f"Overlaps override {first.pk}." in response.content.decode()
    assert SubscriptionOverride.objects.count() == 1


def test_a_tier_the_pricing_refuses_is_shown_on_its_row(admin_client, subscription):
    # given
    charge = subscription.version.charges.get()
    data = posted(admin_client, subscription, kind="charge", reason="pilot")
    data |= tier_rows(("0", "1000", "0", ""), ("500", "", "-1", ""))
    data |= {"charge": str(charge.pk), "charge_model": "graduated"}
    # when
    response = admin_client.post(add_url(subscription), data)
    # then
    assert response.status_code == 200
    assert "plans-tier-invalid" in response.content.decode()
    assert not SubscriptionOverride.objects.exists()


def test_the_live_example_prices_the_discount_on_the_plan_price(admin_client, subscription):
    # given: the plan's api_calls tiers: 0-1,000 free, then 0.01 per unit
    charge = subscription.version.charges.get()
    url = reverse("admin:plans_subscription_override_preview", args=[subscription.pk])
    # when
    response = admin_client.post(
        url, {"charge": str(charge.pk), "discount_percent": "50", "example_units": "3000"}
    )
    # then
    body = response.json()
    assert body["ok"] is True
    assert body["sentence"] == "3,000 units cost $10.00 after 50% off"
    assert Decimal(body["breakdown"][1]["amount"]) == Decimal("10")


@pytest.mark.parametrize(
    ("_case", "feature_kind", "fields", "value"),
    [
        ("a boolean switched off", "boolean", {"feature_enabled": "no"}, {"enabled": False}),
        ("a static value", "static", {"feature_value": "20"}, {"value": "20"}),
        (
            "a metered limit and cap",
            "metered",
            {"feature_limit": "5000", "cap": "soft"},
            {"limit": "5000", "cap": "soft"},
        ),
        ("unlimited", "metered", {"feature_unlimited": "on"}, {"limit": None}),
    ],
)
def test_a_feature_value_is_set_with_fields(
    admin_client, subscription, _case, feature_kind, fields, value
):
    # given
    feature = make_feature(f"f-{feature_kind}", kind=feature_kind)
    data = posted(admin_client, subscription, kind="feature", reason="deal", **fields)
    data["feature"] = str(feature.pk)
    # when
    response = admin_client.post(add_url(subscription), data)
    # then
    assert response.status_code == 302
    override = SubscriptionOverride.objects.get(subscription=subscription)
    assert (override.feature_id, override.value) == (feature.pk, value)


def test_a_credit_allowance_is_set_with_fields(admin_client, subscription):
    # given
    feature = make_feature("calls", kind="metered")
    data = posted(
        admin_client,
        subscription,
        kind="credit",
        reason="deal",
        feature=str(feature.pk),
        refill_amount="1000",
        expiry_days="30",
        renew_on_billing="yes",
    )
    # when
    response = admin_client.post(add_url(subscription), data)
    # then
    assert response.status_code == 302
    override = SubscriptionOverride.objects.get(subscription=subscription)
    assert override.value == {"refill_amount": "1000", "expiry_days": 30, "renew_on_billing": True}
