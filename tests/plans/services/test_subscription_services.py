from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from billing_site.core.exceptions import ApplicationError, ConflictError, NotFoundError
from billing_site.core.models import AuditLogEntry
from plans.models import Subscription
from plans.services import (
    plan_version_archive,
    subscription_cancel,
    subscription_change_plan,
    subscription_create,
    subscription_period_advance,
)
from tests.plans.factories import (
    make_customer,
    make_plan,
    make_published_plan,
    make_subscription,
    make_version,
)

pytestmark = pytest.mark.django_db


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@time_machine.travel(utc(2025, 1, 31, 12), tick=False)
def test_create_uses_the_latest_published_version_and_stores_the_first_period():
    # given a plan with v1 and v2 published and a v3 draft
    plan = make_plan()
    make_version(plan, publish=True)
    v2 = make_version(plan, publish=True, base_fee=Decimal("59"))
    make_version(plan)

    # when
    subscription, created = subscription_create(
        customer=make_customer(), plan=plan, external_id="sub-1"
    )

    # then
    assert created is True
    assert subscription.version == v2
    assert subscription.status == "active"
    assert subscription.billing_anchor == utc(2025, 1, 31, 12)
    assert (subscription.current_period_start, subscription.current_period_end) == (
        utc(2025, 1, 31, 12),
        utc(2025, 2, 28, 12),
    )
    assert AuditLogEntry.objects.filter(action="subscription.created").count() == 1


def test_create_with_a_named_version_and_calendar_billing():
    plan = make_plan()
    v1 = make_version(plan, publish=True)
    make_version(plan, publish=True)

    subscription, _ = subscription_create(
        customer=make_customer(),
        plan=plan,
        version_number=1,
        started_at=utc(2025, 3, 15, 8),
        billing_time="calendar",
    )

    assert subscription.version == v1
    assert (subscription.current_period_start, subscription.current_period_end) == (
        utc(2025, 3, 15, 8),
        utc(2025, 4, 1),
    )


@time_machine.travel(utc(2025, 5, 1), tick=False)
def test_trial_comes_from_the_version_and_makes_the_subscription_trialing():
    version = make_published_plan(trial_days=7)
    subscription = make_subscription(version)
    assert subscription.status == "trialing"
    assert subscription.trial_ends_at == utc(2025, 5, 8)


def test_create_is_idempotent_on_external_id_for_the_same_customer_and_plan():
    version = make_published_plan()
    customer = make_customer()
    first, _ = subscription_create(customer=customer, plan=version.plan, external_id="sub-1")

    again, created = subscription_create(customer=customer, plan=version.plan, external_id="sub-1")

    assert created is False
    assert again.pk == first.pk
    assert Subscription.objects.count() == 1


def test_create_refuses_an_external_id_of_another_customer():
    version = make_published_plan()
    subscription_create(customer=make_customer("acme"), plan=version.plan, external_id="sub-1")
    with pytest.raises(ConflictError) as raised:
        subscription_create(
            customer=make_customer("globex"), plan=version.plan, external_id="sub-1"
        )
    assert raised.value.fields.keys() == {"external_id"}


@pytest.mark.parametrize(
    ("_case", "setup", "error", "code"),
    [
        ("no published version", lambda plan: make_version(plan), NotFoundError, "not_found"),
        (
            "named version is a draft",
            lambda plan: (make_version(plan, publish=True), make_version(plan), 2)[-1],
            ConflictError,
            "version_not_published",
        ),
        (
            "named version is archived",
            lambda plan: (plan_version_archive(version=make_version(plan, publish=True)), 1)[-1],
            ConflictError,
            "version_not_published",
        ),
    ],
)
def test_create_needs_a_published_version(_case, setup, error, code):
    plan = make_plan()
    number = setup(plan)
    with pytest.raises(error) as raised:
        subscription_create(
            customer=make_customer(),
            plan=plan,
            version_number=number if isinstance(number, int) else None,
        )
    assert raised.value.code == code
    assert not Subscription.objects.exists()


def test_the_first_subscription_sets_the_customers_currency_and_others_must_match():
    customer = make_customer()
    make_subscription(make_published_plan("usd-plan"), customer)
    customer.refresh_from_db()
    assert customer.currency == "USD"

    eur = make_published_plan("eur-plan", currency="EUR")
    with pytest.raises(ApplicationError) as raised:
        make_subscription(eur, customer)
    assert raised.value.code == "currency_mismatch"
    assert raised.value.fields.keys() == {"plan"}


def test_cancel_at_period_end_keeps_it_running_until_the_period_ends():
    # given
    subscription = make_subscription(started_at=utc(2025, 1, 31))

    # when
    subscription = subscription_cancel(subscription=subscription, at_period_end=True)

    # then
    assert subscription.status == "active"
    assert subscription.cancel_at_period_end is True
    assert subscription.ended_at is None

    # and when the period is advanced after its end, it ends at the boundary
    ended = subscription_period_advance(subscription=subscription, now=utc(2025, 3, 1))
    assert ended.status == "ended"
    assert ended.ended_at == utc(2025, 2, 28)


@time_machine.travel(utc(2025, 2, 10), tick=False)
def test_cancel_immediately_ends_it_now():
    subscription = make_subscription(started_at=utc(2025, 1, 31))
    subscription = subscription_cancel(subscription=subscription, at_period_end=False)
    assert subscription.status == "canceled"
    assert subscription.ended_at == utc(2025, 2, 10)
    with pytest.raises(ConflictError) as raised:
        subscription_cancel(subscription=subscription)
    assert raised.value.code == "subscription_not_live"


@time_machine.travel(utc(2025, 2, 10), tick=False)
def test_upgrade_applies_immediately_and_keeps_the_period():
    # given
    starter = make_published_plan("starter", base_fee=Decimal("19"))
    pro = make_published_plan("professional", base_fee=Decimal("49"))
    subscription = make_subscription(starter, started_at=utc(2025, 1, 31))

    # when no timing is given for a dearer plan
    subscription = subscription_change_plan(subscription=subscription, plan=pro.plan)

    # then
    assert subscription.version == pro
    assert subscription.scheduled_version is None
    assert subscription.current_period_start == utc(2025, 1, 31)
    assert subscription.current_period_end == utc(2025, 2, 28)


def test_downgrade_is_scheduled_at_period_end_and_applied_when_the_period_advances():
    # given
    starter = make_published_plan("starter", base_fee=Decimal("19"))
    pro = make_published_plan("professional", base_fee=Decimal("49"))
    subscription = make_subscription(pro, started_at=utc(2025, 1, 31))

    # when
    subscription = subscription_change_plan(subscription=subscription, plan=starter.plan)

    # then
    assert subscription.version == pro
    assert subscription.scheduled_version == starter
    assert subscription.scheduled_change_at == utc(2025, 2, 28)

    advanced = subscription_period_advance(subscription=subscription, now=utc(2025, 2, 28))
    assert advanced.version == starter
    assert advanced.scheduled_version is None
    assert (advanced.current_period_start, advanced.current_period_end) == (
        utc(2025, 2, 28),
        utc(2025, 3, 31),
    )


@time_machine.travel(utc(2025, 2, 10), tick=False)
def test_effective_change_is_scheduled_at_the_given_time_and_must_be_in_the_future():
    starter = make_published_plan("starter", base_fee=Decimal("19"))
    pro = make_published_plan("professional")
    subscription = make_subscription(starter, started_at=utc(2025, 1, 31))

    with pytest.raises(ValidationError) as raised:
        subscription_change_plan(
            subscription=subscription,
            plan=pro.plan,
            timing="effective",
            effective_at=utc(2025, 2, 1),
        )
    assert "effective_at" in raised.value.message_dict

    subscription = subscription_change_plan(
        subscription=subscription, plan=pro.plan, timing="effective", effective_at=utc(2025, 2, 15)
    )
    assert (subscription.scheduled_version, subscription.scheduled_change_at) == (
        pro,
        utc(2025, 2, 15),
    )


def test_changing_to_the_same_version_is_refused():
    subscription = make_subscription()
    with pytest.raises(ConflictError) as raised:
        subscription_change_plan(subscription=subscription, plan=subscription.version.plan)
    assert raised.value.code == "same_version"


def test_period_advance_walks_month_ends_from_the_anchor():
    # given a Jan 31 anniversary subscription in a leap year
    subscription = make_subscription(started_at=utc(2024, 1, 31))

    # when advanced three times
    periods = []
    for now in (utc(2024, 3, 1), utc(2024, 4, 1), utc(2024, 5, 1)):
        subscription = subscription_period_advance(subscription=subscription, now=now)
        periods.append((subscription.current_period_start, subscription.current_period_end))

    # then
    assert periods == [
        (utc(2024, 2, 29), utc(2024, 3, 31)),
        (utc(2024, 3, 31), utc(2024, 4, 30)),
        (utc(2024, 4, 30), utc(2024, 5, 31)),
    ]


def test_period_advance_refuses_a_period_that_has_not_ended():
    subscription = make_subscription(started_at=utc(2025, 1, 31))
    with pytest.raises(ConflictError) as raised:
        subscription_period_advance(subscription=subscription, now=utc(2025, 2, 27))
    assert raised.value.code == "period_not_ended"


def test_an_interval_change_re_anchors_at_the_boundary():
    # given a monthly subscription moving to a yearly plan at period end
    monthly = make_published_plan("monthly", base_fee=Decimal("49"))
    yearly = make_published_plan("yearly", base_fee=Decimal("490"), interval="year")
    subscription = make_subscription(monthly, started_at=utc(2025, 1, 15))
    subscription_change_plan(subscription=subscription, plan=yearly.plan, timing="period_end")

    # when
    subscription = subscription_period_advance(subscription=subscription, now=utc(2025, 2, 15))

    # then
    assert subscription.billing_anchor == utc(2025, 2, 15)
    assert (subscription.current_period_start, subscription.current_period_end) == (
        utc(2025, 2, 15),
        utc(2026, 2, 15),
    )


def test_an_unknown_billing_time_is_refused_with_its_field():
    version = make_published_plan()
    with pytest.raises(ValidationError) as raised:
        subscription_create(customer=make_customer(), plan=version.plan, billing_time="fiscal")
    assert raised.value.message_dict.keys() == {"billing_time"}
    assert not Subscription.objects.exists()
