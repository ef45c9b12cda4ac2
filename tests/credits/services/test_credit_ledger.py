from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from credits.models import CreditGrant, CreditLedgerEntry
from credits.selectors import credit_balance_get
from credits.services import (
    credit_definition_set,
    credit_grants_expire,
    credit_grants_for_subscription_ensure,
    credits_application_reverse,
    credits_apply_to_usage,
    credits_consume,
)
from plans.services import plan_version_publish, subscription_period_advance
from tests.entitlements.factories import STARTED, grant, plan_with_feature, subscribe

D = Decimal
pytestmark = pytest.mark.django_db


def test_burn_order_is_priority_then_soonest_expiry_then_oldest():
    # given: four grants of one feature
    customer, _, feature = subscribe(limit=D(0))
    lifetime = grant(customer, feature, "10", priority=50)
    later = grant(customer, feature, "10", priority=50, expires_at=STARTED + timedelta(days=60))
    sooner = grant(customer, feature, "10", priority=50, expires_at=STARTED + timedelta(days=30))
    first = grant(customer, feature, "10", priority=10)
    at = STARTED + timedelta(days=1)
    # when: 35 units burn
    burns = credits_consume(
        customer=customer, feature=feature, quantity=D(35), reference="r1", at=at
    )
    # then: priority first, then the soonest expiry, then the later one, the lifetime grant last
    assert [(b.grant_id, b.amount) for b in burns] == [
        (first.pk, D(10)),
        (sooner.pk, D(10)),
        (later.pk, D(10)),
        (lifetime.pk, D(5)),
    ]
    balance = credit_balance_get(customer=customer, feature=feature, at=at)
    assert balance.total == D(5)
    assert [g.grant_id for g in balance.grants] == [lifetime.pk]


def test_a_burn_is_idempotent_on_its_reference():
    # given
    customer, _, feature = subscribe(limit=D(0))
    grant(customer, feature, "10")
    # when: the same burn runs twice
    credits_consume(customer=customer, feature=feature, quantity=D(4), reference="same")
    again = credits_consume(customer=customer, feature=feature, quantity=D(4), reference="same")
    # then: once
    assert [b.amount for b in again] == [D(4)]
    assert credit_balance_get(customer=customer, feature=feature).total == D(6)
    assert CreditLedgerEntry.objects.filter(kind="consume").count() == 1


def test_a_lifetime_grant_never_resets_across_periods():
    # given: a lifetime grant of 100, 30 burned in the first period
    customer, subscription, feature = subscribe(limit=D(0))
    grant(customer, feature, "100", source="promotion")
    credits_consume(customer=customer, feature=feature, quantity=D(30), reference="p1", at=STARTED)
    # when: two periods go by
    subscription_period_advance(subscription=subscription, now=datetime(2026, 12, 1, tzinfo=UTC))
    subscription_period_advance(subscription=subscription, now=datetime(2027, 1, 1, tzinfo=UTC))
    # then: still 70, neither refilled nor expired
    assert credit_balance_get(
        customer=customer, feature=feature, at=datetime(2027, 1, 15, tzinfo=UTC)
    ).total == D(70)


def test_plan_credits_are_granted_at_start_and_refilled_at_each_period_boundary():
    # given: a plan granting 100 at start and 50 each period, expiring after 30 days
    version, feature = plan_with_feature(limit=D(0), publish=False)
    credit_definition_set(
        version=version,
        feature=feature,
        initial_amount=D(100),
        refill_amount=D(50),
        renew_on_billing=True,
        expiry_days=30,
        priority=5,
    )
    version = plan_version_publish(version=version)
    # when: subscribed on Nov 1
    customer, subscription, _ = subscribe(version=version)
    # then: the initial grant, no refill for the first period
    grants = CreditGrant.objects.filter(customer=customer).order_by("effective_at")
    assert [(g.source, g.amount, g.effective_at) for g in grants] == [("plan", D(100), STARTED)]
    # when: the period advances to Dec 1 (and the refill task runs again: idempotent)
    dec1 = datetime(2026, 12, 1, tzinfo=UTC)
    subscription = subscription_period_advance(subscription=subscription, now=dec1)
    credit_grants_for_subscription_ensure(subscription=subscription, at=dec1)
    # then: one refill of 50 for December, expiring 30 days later
    refills = CreditGrant.objects.filter(customer=customer, source="refill")
    assert [(g.amount, g.effective_at, g.expires_at, g.priority) for g in refills] == [
        (D(50), dec1, dec1 + timedelta(days=30), 5)
    ]
    # the initial grant expired on Dec 1 (30 days after Nov 1): only the refill counts then
    assert credit_balance_get(customer=customer, feature=feature, at=dec1).total == D(50)


def test_expiry_takes_what_is_left_once_however_often_it_runs():
    # given: 10 units expiring on Nov 15, 4 burned
    customer, _, feature = subscribe(limit=D(0))
    expiring = grant(customer, feature, "10", expires_at=datetime(2026, 11, 15, tzinfo=UTC))
    credits_consume(customer=customer, feature=feature, quantity=D(4), reference="c", at=STARTED)
    # when: the expiry task runs before, then twice after the expiry
    before = credit_grants_expire(at=datetime(2026, 11, 14, tzinfo=UTC))
    first = credit_grants_expire(at=datetime(2026, 11, 16, tzinfo=UTC))
    second = credit_grants_expire(at=datetime(2026, 11, 17, tzinfo=UTC))
    # then: one expire row of -6 and nothing left
    assert (before, first, second) == (0, 1, 0)
    rows = CreditLedgerEntry.objects.filter(grant=expiring).order_by("id")
    assert [(r.kind, r.amount) for r in rows] == [
        ("grant", D(10)),
        ("consume", D(-4)),
        ("expire", D(-6)),
    ]


def test_invoicing_applies_credits_once_per_invoice_and_gives_them_back_on_void():
    # given: 100 credits, 20 of them burned in real time by consumes in November
    customer, _, feature = subscribe(limit=D(0))
    grant(customer, feature, "100", billing_visible=True)
    nov = (STARTED, datetime(2026, 12, 1, tzinfo=UTC))
    credits_consume(
        customer=customer,
        feature=feature,
        quantity=D(20),
        reference="consume:x",
        at=STARTED,
        period_start=nov[0],
        period_end=nov[1],
    )
    # when: the November invoice applies credits to 50 units beyond the plan, twice
    first = credits_apply_to_usage(
        customer=customer,
        feature=feature,
        quantity=D(50),
        period_start=nov[0],
        period_end=nov[1],
        invoice_key="inv-1",
    )
    again = credits_apply_to_usage(
        customer=customer,
        feature=feature,
        quantity=D(50),
        period_start=nov[0],
        period_end=nov[1],
        invoice_key="inv-1",
    )
    # then: 20 were covered in real time, 30 burn now, once
    assert (first.applied, first.burned_in_real_time, sum(b.amount for b in first.burns)) == (
        D(50),
        D(20),
        D(30),
    )
    assert again == first
    assert credit_balance_get(customer=customer, feature=feature, at=nov[1]).total == D(50)
    # when: the invoice is voided (twice)
    returned = credits_application_reverse(invoice_key="inv-1")
    returned_again = credits_application_reverse(invoice_key="inv-1")
    # then: the 30 come back once; the 20 used in real time stay used
    assert (returned, returned_again) == (D(30), D(0))
    assert credit_balance_get(customer=customer, feature=feature, at=nov[1]).total == D(80)


def test_a_staff_grant_needs_a_reason_and_a_positive_amount():
    # given
    customer, _, feature = subscribe(limit=D(0))
    # when / then
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as no_reason:
        grant(customer, feature, "10", reason=" ")
    with pytest.raises(ValidationError) as negative:
        grant(customer, feature, "-1")
    assert "reason" in no_reason.value.message_dict
    assert "amount" in negative.value.message_dict
    assert CreditGrant.objects.count() == 0


def test_a_credit_allowance_override_replaces_the_plans_refill_for_one_subscription():
    # given: the plan refills 50 a period; this subscription's override refills 80
    from plans.services import subscription_override_create

    version, feature = plan_with_feature(limit=D(0), publish=False)
    credit_definition_set(
        version=version, feature=feature, refill_amount=D(50), renew_on_billing=True
    )
    version = plan_version_publish(version=version)
    customer, subscription, _ = subscribe(version=version)
    subscription_override_create(
        subscription=subscription,
        kind="credit",
        feature=feature,
        value={"refill_amount": "80"},
        reason="negotiated allowance",
    )
    # when: the period advances
    dec1 = datetime(2026, 12, 1, tzinfo=UTC)
    subscription_period_advance(subscription=subscription, now=dec1)
    # then: one refill, of 80, and none of the plan's 50
    refills = CreditGrant.objects.filter(customer=customer, source="refill")
    assert [(g.amount, g.effective_at) for g in refills] == [(D(80), dec1)]


def test_a_credit_allowance_override_with_unknown_keys_is_refused():
    # given
    from django.core.exceptions import ValidationError

    from plans.models import SubscriptionOverride
    from plans.services import subscription_override_create

    _, subscription, feature = subscribe(limit=D(0))
    # when / then
    with pytest.raises(ValidationError) as refused:
        subscription_override_create(
            subscription=subscription,
            kind="credit",
            feature=feature,
            value={"units": "500", "refill_amount": "-1"},
            reason="typo",
        )
    assert set(refused.value.message_dict) == {"value.units", "value.refill_amount"}
    assert SubscriptionOverride.objects.count() == 0
