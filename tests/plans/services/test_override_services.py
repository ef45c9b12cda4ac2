from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from billing_site.core.exceptions import ConflictError
from billing_site.core.models import AuditLogEntry
from plans.models import SubscriptionOverride
from plans.services import subscription_override_create, subscription_override_end
from tests.plans.factories import make_feature, make_published_plan, make_subscription

pytestmark = pytest.mark.django_db

FROM = datetime(2025, 3, 1, tzinfo=UTC)
UNTIL = datetime(2025, 4, 1, tzinfo=UTC)


@pytest.fixture
def subscription():
    return make_subscription(make_published_plan(), started_at=datetime(2025, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(
    ("_case", "kwargs", "field"),
    [
        ("negative base fee", {"kind": "base_fee", "value": {"amount": "-1"}}, "value.amount"),
        ("base fee not a number", {"kind": "base_fee", "value": {"amount": "abc"}}, "value.amount"),
        ("unknown key", {"kind": "base_fee", "value": {"amount": "1", "x": 1}}, "value.x"),
        ("charge without charge", {"kind": "charge", "value": {"properties": {}}}, "charge"),
        ("feature without feature", {"kind": "feature", "value": {"enabled": True}}, "feature"),
        (
            "window backwards",
            {
                "kind": "base_fee",
                "value": {"amount": "1"},
                "valid_from": UNTIL,
                "valid_until": FROM,
            },
            "valid_until",
        ),
        ("no reason", {"kind": "base_fee", "value": {"amount": "1"}, "reason": " "}, "reason"),
        ("credit without allowance", {"kind": "credit", "value": {}}, "value"),
    ],
)
def test_invalid_overrides_are_refused_with_the_field(subscription, _case, kwargs, field):
    arguments = {"reason": "Because"} | kwargs
    with pytest.raises(ValidationError) as raised:
        subscription_override_create(subscription=subscription, **arguments)
    assert field in raised.value.message_dict
    assert not SubscriptionOverride.objects.exists()


def test_charge_override_properties_are_validated_with_tier_and_field(subscription):
    with pytest.raises(ValidationError) as raised:
        subscription_override_create(
            subscription=subscription,
            kind="charge",
            charge=subscription.version.charges.get(),
            value={
                "properties": {
                    "graduated_ranges": [
                        {"from_value": 5, "to_value": None, "per_unit_amount": "0.01"}
                    ]
                }
            },
            reason="Deal",
        )
    assert raised.value.message_dict == {
        "value.properties.graduated_ranges[0].from_value": ["Tier 1 must start at 0; got 5."]
    }


def test_a_boolean_feature_override_needs_enabled(subscription):
    with pytest.raises(ValidationError) as raised:
        subscription_override_create(
            subscription=subscription,
            kind="feature",
            feature=make_feature("sso"),
            value={"limit": "5"},
            reason="Pilot",
        )
    assert set(raised.value.message_dict) == {"value.limit", "value.enabled"}


def test_overlapping_overrides_of_the_same_target_are_refused(subscription):
    subscription_override_create(
        subscription=subscription,
        kind="base_fee",
        value={"amount": "39"},
        valid_from=FROM,
        valid_until=UNTIL,
        reason="Spring",
    )
    with pytest.raises(ConflictError) as raised:
        subscription_override_create(
            subscription=subscription,
            kind="base_fee",
            value={"amount": "29"},
            valid_from=UNTIL - timedelta(days=1),
            reason="Later",
        )
    assert raised.value.code == "override_overlap"

    # and a window that starts where the other ends does not overlap
    subscription_override_create(
        subscription=subscription,
        kind="base_fee",
        value={"amount": "29"},
        valid_from=UNTIL,
        reason="Later",
    )
    assert SubscriptionOverride.objects.count() == 2


def test_ending_an_override_sets_valid_until_and_audits(subscription):
    override = subscription_override_create(
        subscription=subscription, kind="base_fee", value={"amount": "39"}, reason="Deal"
    )
    at = timezone.now()

    ended = subscription_override_end(override=override, at=at, reason="Deal over")

    assert ended.valid_until == at
    entry = AuditLogEntry.objects.get(action="subscription_override.ended")
    assert entry.reason == "Deal over"
    # and ending again changes nothing
    assert subscription_override_end(override=ended, at=at + timedelta(days=1)).valid_until == at


def test_ending_an_override_that_has_not_started_withdraws_it(subscription):
    override = subscription_override_create(
        subscription=subscription,
        kind="base_fee",
        value={"amount": "39"},
        valid_from=timezone.now() + timedelta(days=3),
        reason="Future deal",
    )

    assert subscription_override_end(override=override) is None

    assert not SubscriptionOverride.objects.exists()
    assert AuditLogEntry.objects.filter(action="subscription_override.withdrawn").count() == 1
