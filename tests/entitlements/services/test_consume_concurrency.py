import threading
from decimal import Decimal

import pytest
from django.db import connection

from credits.models import CreditLedgerEntry
from credits.selectors import credit_balance_get
from entitlements.models import ConsumeRecord, UsageCounter
from entitlements.services import entitlement_consume
from metering.models import Event
from tests.entitlements.factories import grant, subscribe

D = Decimal
THREADS = 24


def _race(customer, quantity: Decimal, n: int) -> list[int]:
    """``n`` threads, each on its own database connection, consume at the same moment."""
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            outcome = entitlement_consume(
                customer=customer,
                feature="api-calls",
                quantity=quantity,
                transaction_id=f"race-{index}",
            )
            statuses.append(outcome.status)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return statuses


@pytest.mark.django_db(transaction=True)
def test_concurrent_consumes_never_overspend_a_hard_cap():
    # given: 20 units a period, hard cap
    customer, _, _ = subscribe(limit=D(20))
    # when: 24 consumes of 1 race
    statuses = _race(customer, D(1), THREADS)
    # then: exactly 20 recorded, 4 refused, the counter agrees with the events
    assert sorted(statuses) == [200] * 20 + [402] * 4
    assert Event.objects.filter(customer_id="acme").count() == 20
    assert UsageCounter.objects.get().quantity == D(20)
    assert ConsumeRecord.objects.filter(allowed=True).count() == 20


@pytest.mark.django_db(transaction=True)
def test_concurrent_consumes_never_spend_a_credit_twice():
    # given: nothing included, 10 credits in two grants
    customer, _, feature = subscribe(limit=D(0))
    grant(customer, feature, "4", priority=1)
    grant(customer, feature, "6", priority=2)
    # when: 24 consumes of 1 race
    statuses = _race(customer, D(1), THREADS)
    # then: 10 recorded and paid with credits, nothing left, no grant below zero
    assert sorted(statuses) == [200] * 10 + [402] * 14
    assert credit_balance_get(customer=customer, feature=feature).total == D(0)
    assert CreditLedgerEntry.objects.filter(kind="consume").count() == 10
    assert UsageCounter.objects.get().credited == D(10)
