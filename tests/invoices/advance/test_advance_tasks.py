"""The pay-in-advance beat tasks through a real Celery worker: fees from new events, then fee
invoices; running each twice changes nothing."""

from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from invoices.advance.models import AdvanceFee
from invoices.advance.tasks import (
    invoices_advance_fees_create_task,
    invoices_advance_fees_invoice_task,
)
from invoices.models import Invoice, InvoiceKind
from tests.invoices.advance.builders import advance_plan, send, tokens
from tests.invoices.factories import subscribe, wait_for

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_beat_tasks_bill_each_event_once_however_often_they_run(worker):
    # given tokens at 0.25 paid in advance and three events in the running period
    started = timezone.now() - relativedelta(days=3)
    subscribe(advance_plan(tokens(), "standard", {"amount": "0.25"}), started_at=started)
    at = timezone.now() - relativedelta(hours=1)
    send("acme", "tokens", {"tokens": 4}, {"tokens": 1}, {"tokens": 10}, at=at)

    # when the fee task runs twice, then the invoicing task twice
    invoices_advance_fees_create_task.delay()
    wait_for(lambda: AdvanceFee.objects.count() == 3)
    invoices_advance_fees_create_task.delay()
    invoices_advance_fees_invoice_task.delay()
    wait_for(lambda: Invoice.objects.filter(kind=InvoiceKind.FEES).exists())
    invoices_advance_fees_invoice_task.delay()
    invoices_advance_fees_create_task.delay()
    # and, queued behind those reruns on the one worker, a new event is billed
    send("acme", "tokens", {"tokens": 2}, at=timezone.now())
    invoices_advance_fees_create_task.delay()
    invoices_advance_fees_invoice_task.delay()
    wait_for(lambda: Invoice.objects.filter(kind=InvoiceKind.FEES).count() == 2)

    # then the three events are three fees on the first fee invoice of 3.75, and the new one
    # alone on the second
    first, second = Invoice.objects.filter(kind=InvoiceKind.FEES).order_by("pk")
    assert sorted(first.advance_fees.values_list("amount", flat=True)) == [
        Decimal("0.25"),
        Decimal("1.00"),
        Decimal("2.50"),
    ]
    assert (first.total, second.total) == (Decimal("3.75"), Decimal("0.50"))
    assert AdvanceFee.objects.count() == 4


def test_setup_periodic_tasks_declares_the_pay_in_advance_tasks():
    call_command("setup_periodic_tasks")
    call_command("setup_periodic_tasks")
    names = set(PeriodicTask.objects.values_list("task", flat=True))
    assert {"invoices.advance_fees_create", "invoices.advance_fees_invoice"} <= names
    assert PeriodicTask.objects.filter(name="invoices.advance_fees_create").count() == 1
