"""Concurrent workers: gapless numbers at finalization, one invoice per period."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from invoices.models import Invoice
from invoices.services import invoice_finalize, subscription_bill_due
from tests.invoices.factories import plan_version, subscribe, utc

pytestmark = pytest.mark.django_db(transaction=True)

FEB_1 = utc(2026, 2, 1, 0, 5)


def run_together(calls: list[Callable[[], object]]) -> list[BaseException]:
    """Run the calls in threads (each on its own connection) released at the same moment."""
    barrier = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def worker(call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            call()
        except BaseException as error:  # noqa: BLE001 - reported to the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_two_workers_billing_the_same_subscription_make_one_invoice():
    # given a subscription whose period ended
    subscription = subscribe(plan_version(charges={}), started_at=utc(2026, 1, 1))

    # when four workers bill it at once
    errors = run_together(
        [lambda: subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)] * 4
    )

    # then exactly one invoice, numbered once
    assert errors == []
    assert list(Invoice.objects.values_list("number", flat=True)) == ["INV-2026-000001"]


def test_concurrent_finalizations_take_gapless_numbers():
    # given twelve drafts (grace days keep them drafts)
    version = plan_version("grace", charges={}, invoice_grace_days=5)
    drafts = []
    for n in range(12):
        subscription = subscribe(version, f"c{n}", started_at=utc(2026, 1, 1))
        drafts += subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # when six workers finalize them, each draft by two workers
    def finalize(ids: list[int]) -> Callable[[], None]:
        def call() -> None:
            for invoice_id in ids:
                try:
                    invoice_finalize(invoice=Invoice(pk=invoice_id), now=utc(2026, 2, 7))
                except Exception as error:
                    if "only drafts change" not in str(error):
                        raise

        return call

    ids = [d.pk for d in drafts]
    errors = run_together([finalize(ids[i::3]) for i in range(3)] * 2)

    # then numbers 1..12, no gaps, no repeats
    assert errors == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-2026-{n:06d}" for n in range(1, 13)]
