"""The invoice e-mail through a real Celery worker: finalization commits, the worker sends."""

import time
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from billing_site.celery import app
from invoices.models import InvoiceEmail
from invoices.services import invoice_finalize
from tests.invoices.add_on_factories import one_off
from tests.plans.factories import make_customer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def worker() -> Iterator[None]:
    app.control.purge()
    with start_worker(app, perform_ping_check=False, shutdown_timeout=30):
        yield


def test_the_worker_sends_the_finalized_email_once_after_commit(worker):
    # given a customer with an address and a one-off draft
    customer = make_customer("acme", name="Acme Corp", email="ap@acme.example")
    draft = one_off(customer, ("setup", "3"))

    # when it is finalized (its own transaction commits and enqueues the send)
    invoice_finalize(invoice=draft)

    # then the worker sends it and records it
    deadline = time.monotonic() + 30
    while not InvoiceEmail.objects.filter(status="sent").exists():
        assert time.monotonic() < deadline, "timed out waiting for the worker"
        time.sleep(0.1)
    (message,) = mail.outbox
    assert message.to == ["ap@acme.example"]
    assert "$147.00" in message.subject
