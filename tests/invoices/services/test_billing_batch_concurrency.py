"""Racing workers on the batch billing path: one invoice per period, gapless numbers, one
period advance per subscription."""

from decimal import Decimal

import pytest

from billing_site.core.models import AuditLogEntry
from invoices.models import Invoice
from invoices.services import billing_batch_run, subscription_bill_due
from plans.models import Subscription
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc
from tests.invoices.services.test_billing_concurrency import run_together

pytestmark = pytest.mark.django_db(transaction=True)

FEB_1 = utc(2026, 2, 1, 0, 5)


def test_workers_racing_on_overlapping_batches_bill_each_period_once():
    # given six subscriptions whose January ended, two of them with usage
    version = plan_version()
    ids = [subscribe(version, f"c{n}", started_at=utc(2026, 1, 1)).pk for n in range(6)]
    send_tokens("c0", 1500, at=utc(2026, 1, 3))
    send_tokens("c5", 20000, at=utc(2026, 1, 30))

    # when three workers bill the whole batch, one bills half of it, and one bills a single
    # subscription one by one, all at the same moment
    errors = run_together(
        [lambda: billing_batch_run(run_id=None, subscription_ids=ids, now=FEB_1)] * 3
        + [lambda: billing_batch_run(run_id=None, subscription_ids=ids[3:], now=FEB_1)]
        + [lambda: subscription_bill_due(subscription_id=ids[4], now=FEB_1)]
    )

    # then one invoice per subscription, numbered 1..6 without gaps, each period advanced once
    assert errors == []
    assert Invoice.objects.count() == 6
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        f"INV-2026-{n:06d}" for n in range(1, 7)
    ]
    totals = dict(Invoice.objects.values_list("customer__external_id", "total"))
    assert totals == {
        "c0": Decimal("74.00"),  # 49.00 + 1000 x 0.02 + 500 x 0.01
        "c1": Decimal("49.00"),
        "c2": Decimal("49.00"),
        "c3": Decimal("49.00"),
        "c4": Decimal("49.00"),
        "c5": Decimal("209.00"),  # 49.00 + 20.00 + 90.00 + 10000 x 0.005
    }
    assert set(Subscription.objects.values_list("current_period_start", flat=True)) == {
        utc(2026, 2, 1)
    }
    assert AuditLogEntry.objects.filter(action="subscription.period_advanced").count() == 6
