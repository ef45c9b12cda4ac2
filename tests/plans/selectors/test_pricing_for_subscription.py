from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from plans.selectors import pricing_for_subscription
from plans.services import (
    plan_feature_set,
    plan_version_publish,
    subscription_change_plan,
    subscription_override_create,
)
from tests.plans.factories import (
    SEED_GRADUATED,
    make_feature,
    make_plan,
    make_published_plan,
    make_subscription,
    make_version,
)

pytestmark = pytest.mark.django_db

FROM = datetime(2025, 3, 1, tzinfo=UTC)
UNTIL = datetime(2025, 4, 1, tzinfo=UTC)
SECOND = timedelta(microseconds=1)


@pytest.fixture
def subscription():
    return make_subscription(make_published_plan(), started_at=datetime(2025, 1, 1, tzinfo=UTC))


def test_without_overrides_the_version_is_returned(subscription):
    pricing = pricing_for_subscription(subscription=subscription, at=FROM)

    assert pricing.base_fee == Decimal("49.0000")
    assert pricing.base_fee_override_id is None
    assert pricing.currency == "USD"
    charge = pricing.charge_for_metric("api-calls")
    assert charge.charge_model == "graduated"
    assert charge.properties == SEED_GRADUATED
    assert charge.override_id is None


@pytest.mark.parametrize(
    ("_case", "at", "expected_fee"),
    [
        ("before the window", FROM - SECOND, Decimal("49.0000")),
        ("at valid_from (inclusive)", FROM, Decimal("39.00")),
        ("inside", FROM + timedelta(days=10), Decimal("39.00")),
        ("just before valid_until", UNTIL - SECOND, Decimal("39.00")),
        ("at valid_until (exclusive)", UNTIL, Decimal("49.0000")),
    ],
)
def test_a_base_fee_override_applies_only_inside_its_window(subscription, _case, at, expected_fee):
    # given
    override = subscription_override_create(
        subscription=subscription,
        kind="base_fee",
        value={"amount": "39.00"},
        valid_from=FROM,
        valid_until=UNTIL,
        reason="Spring discount",
    )

    # when
    pricing = pricing_for_subscription(subscription=subscription, at=at)

    # then
    assert pricing.base_fee == expected_fee
    in_window = FROM <= at < UNTIL
    assert pricing.base_fee_override_id == (override.pk if in_window else None)


@pytest.mark.parametrize(
    ("_case", "valid_from", "valid_until", "at", "applies"),
    [
        ("open start", None, UNTIL, datetime(2000, 1, 1, tzinfo=UTC), True),
        ("open start, at the end", None, UNTIL, UNTIL, False),
        ("open end", FROM, None, datetime(2100, 1, 1, tzinfo=UTC), True),
        ("open end, before start", FROM, None, FROM - SECOND, False),
        ("both open", None, None, FROM, True),
    ],
)
def test_open_ended_windows(subscription, _case, valid_from, valid_until, at, applies):
    subscription_override_create(
        subscription=subscription,
        kind="base_fee",
        value={"amount": "0"},
        valid_from=valid_from,
        valid_until=valid_until,
        reason="Partner",
    )
    fee = pricing_for_subscription(subscription=subscription, at=at).base_fee
    assert fee == (Decimal("0") if applies else Decimal("49.0000"))


def test_a_charge_override_replaces_the_properties_of_its_metric(subscription):
    # given
    cheaper = {"amount": "0.001", "free_units": "5000"}
    charge = subscription.version.charges.get()
    override = subscription_override_create(
        subscription=subscription,
        kind="charge",
        charge=charge,
        value={"charge_model": "standard", "properties": cheaper, "min_amount": "10"},
        valid_from=FROM,
        reason="Negotiated rate",
    )

    # when
    inside = pricing_for_subscription(subscription=subscription, at=FROM).charge_for_metric(
        "api-calls"
    )
    before = pricing_for_subscription(
        subscription=subscription, at=FROM - SECOND
    ).charge_for_metric("api-calls")

    # then
    assert (inside.charge_model, inside.properties, inside.min_amount) == (
        "standard",
        cheaper,
        Decimal("10"),
    )
    assert inside.override_id == override.pk
    assert (before.charge_model, before.properties) == ("graduated", SEED_GRADUATED)


def test_a_charge_override_follows_its_metric_to_a_new_version(subscription):
    # given a charge override, then an immediate move to v2 which also charges api-calls
    subscription_override_create(
        subscription=subscription,
        kind="charge",
        charge=subscription.version.charges.get(),
        value={"charge_model": "standard", "properties": {"amount": "0.001"}},
        reason="Negotiated rate",
    )
    v2 = make_version(
        subscription.version.plan,
        publish=True,
        base_fee=Decimal("59"),
        charges={"api-calls": ("volume", {"volume_ranges": SEED_GRADUATED["graduated_ranges"]})},
    )
    subscription = subscription_change_plan(
        subscription=subscription, plan=v2.plan, timing="immediately"
    )

    # when
    charge = pricing_for_subscription(subscription=subscription, at=FROM).charge_for_metric(
        "api-calls"
    )

    # then
    assert charge.charge_id == v2.charges.get().pk
    assert (charge.charge_model, charge.properties) == ("standard", {"amount": "0.001"})


def test_feature_overrides_change_plan_features_and_can_add_new_ones():
    # given a version with a metered feature limited to 1,000
    version = make_version(make_plan("starter"))
    calls = make_feature("calls", kind="metered")
    plan_feature_set(version=version, feature=calls, limit=Decimal("1000"))
    version = plan_version_publish(version=version)
    subscription = make_subscription(version, started_at=datetime(2025, 1, 1, tzinfo=UTC))
    subscription_override_create(
        subscription=subscription,
        kind="feature",
        feature=calls,
        value={"limit": None, "cap": "soft"},
        valid_from=FROM,
        valid_until=UNTIL,
        reason="Launch week",
    )
    subscription_override_create(
        subscription=subscription,
        kind="feature",
        feature=make_feature("sso"),
        value={"enabled": True},
        reason="Pilot",
    )

    # when
    inside = pricing_for_subscription(subscription=subscription, at=FROM)
    after = pricing_for_subscription(subscription=subscription, at=UNTIL)

    # then
    assert (inside.feature("calls").limit, inside.feature("calls").cap) == (None, "soft")
    assert (after.feature("calls").limit, after.feature("calls").cap) == (
        Decimal("1000.0000"),
        "hard",
    )
    assert inside.feature("sso").enabled is True
    assert inside.feature("sso").on_plan is False


def test_credit_overrides_are_passed_through_while_in_force(subscription):
    override = subscription_override_create(
        subscription=subscription,
        kind="credit",
        value={"initial_amount": "500", "renew_on_billing": True},
        valid_from=FROM,
        valid_until=UNTIL,
        reason="Goodwill",
    )

    inside = pricing_for_subscription(subscription=subscription, at=FROM)
    outside = pricing_for_subscription(subscription=subscription, at=UNTIL)

    assert [(c.override_id, c.value) for c in inside.credit_allowances] == [
        (override.pk, {"initial_amount": "500", "renew_on_billing": True})
    ]
    assert outside.credit_allowances == ()


def test_a_scheduled_version_counts_once_its_time_has_come():
    starter = make_published_plan("starter", base_fee=Decimal("19"))
    pro = make_published_plan("professional", base_fee=Decimal("49"))
    subscription = make_subscription(pro, started_at=datetime(2025, 1, 31, tzinfo=UTC))
    subscription = subscription_change_plan(
        subscription=subscription, plan=starter.plan, timing="period_end"
    )
    change_at = subscription.scheduled_change_at

    assert pricing_for_subscription(subscription=subscription, at=change_at - SECOND).plan_code == (
        "professional"
    )
    assert pricing_for_subscription(subscription=subscription, at=change_at).plan_code == "starter"
