"""The billing tasks through a real Celery worker on the configured broker: a run bills what
is due once, however often it runs, and records itself."""

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from invoices.models import BillingRun, Invoice
from invoices.tasks import invoices_bill_batch_task, invoices_bill_due_task
from tests.invoices.factories import plan_version, subscribe, utc, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_billing_run_bills_due_subscriptions_once_and_records_itself(worker):
    # given two subscriptions whose January ended, and one still running
    version = plan_version(charges={})
    started = timezone.now() - relativedelta(months=1, days=2)
    for customer in ("a", "b"):
        subscribe(version, customer, started_at=started, external_id=customer)
    subscribe(version, "c", started_at=utc(2099, 1, 1))

    # when the beat task runs twice
    first = invoices_bill_due_task.delay()
    wait_for(lambda: BillingRun.objects.filter(status="done").count() == 1)
    invoices_bill_due_task.delay()
    wait_for(lambda: BillingRun.objects.filter(status="done").count() == 2)

    # then each due subscription was billed for each ended period exactly once
    assert first is not None
    runs = list(
        BillingRun.objects.order_by("started_at").values_list(
            "subscriptions_due", "batches_total", "batches_done", "errors_count"
        )
    )
    assert runs[0] == (2, 1, 1, 0)
    assert runs[1] == (0, 0, 0, 0)
    assert sorted(Invoice.objects.values_list("subscription__external_id", "period_start")) == [
        ("a", started),
        ("b", started),
    ]


def test_a_batch_delivered_twice_bills_once(worker):
    version = plan_version(charges={})
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    run = BillingRun.objects.create(started_at=utc(2026, 2, 1, 1), batches_total=2)

    invoices_bill_batch_task.delay(run.pk, [subscription.pk], "2026-02-01T01:00:00+00:00")
    invoices_bill_batch_task.delay(run.pk, [subscription.pk], "2026-02-01T01:00:00+00:00")
    wait_for(lambda: BillingRun.objects.get(pk=run.pk).batches_done == 2)

    run.refresh_from_db()
    assert (run.status, run.invoices_created, run.errors_count) == ("done", 1, 0)
    assert Invoice.objects.count() == 1


def test_setup_periodic_tasks_declares_the_billing_tasks():
    call_command("setup_periodic_tasks")
    call_command("setup_periodic_tasks")
    names = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {
        "invoices.bill_due",
        "invoices.finalize_due",
        "invoices.refresh_drafts",
        "invoices.stripe_retry",
    } <= names
    assert PeriodicTask.objects.filter(name="invoices.bill_due").count() == 1
