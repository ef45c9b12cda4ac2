from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from entitlements.models import Hold
from entitlements.selectors import entitlement_get
from entitlements.services import hold_commit, hold_reserve, holds_expire
from tests.entitlements.factories import subscribe

D = Decimal
pytestmark = pytest.mark.django_db


def test_an_expired_hold_frees_itself_and_the_task_closes_it():
    # given: 10 included, 7 held for a minute
    customer, _, _ = subscribe(limit=D(10))
    now = timezone.now()
    outcome = hold_reserve(customer=customer, feature="api-calls", quantity=D(7), ttl_seconds=60)
    assert outcome.status == 201
    # when: before and after its time
    before = entitlement_get(customer=customer, feature="api-calls", at=now + timedelta(seconds=30))
    after = entitlement_get(customer=customer, feature="api-calls", at=now + timedelta(seconds=61))
    closed = holds_expire(at=now + timedelta(seconds=61))
    # then: it counted, then it did not; the task marks it released once
    assert (before.held, before.remaining) == (D(7), D(3))
    assert (after.held, after.remaining) == (D(0), D(10))
    assert closed == 1
    assert Hold.objects.get().status == "released"
    assert holds_expire(at=now + timedelta(seconds=62)) == 0


def test_a_hold_is_refused_when_the_balance_cannot_cover_it_and_commit_after_expiry_is_409():
    # given
    customer, _, _ = subscribe(limit=D(5))
    # when
    refused = hold_reserve(customer=customer, feature="api-calls", quantity=D(6), ttl_seconds=60)
    held = hold_reserve(customer=customer, feature="api-calls", quantity=D(5), ttl_seconds=1)
    # then
    assert (refused.status, refused.body["reason"]) == (402, "limit_reached")
    from billing_site.core.exceptions import ConflictError

    with pytest.raises(ConflictError) as expired:
        hold_commit(
            customer=customer,
            feature="api-calls",
            hold_id=str(held.hold.id),
            quantity=D(1),
            at=timezone.now() + timedelta(seconds=5),
        )
    assert expired.value.code == "hold_expired"
