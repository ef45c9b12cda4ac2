"""The invoice e-mail through a real Celery worker: finalization commits, the worker sends."""

import pytest
from django.core import mail

from invoices.models import InvoiceEmail
from invoices.services import invoice_finalize
from tests.invoices.add_on_factories import one_off
from tests.invoices.factories import wait_for
from tests.plans.factories import make_customer

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_sends_the_finalized_email_once_after_commit(worker):
    # given a customer with an address and a one-off draft
    customer = make_customer("acme", name="Acme Corp", email="ap@acme.example")
    draft = one_off(customer, ("setup", "3"))

    # when it is finalized (its own transaction commits and enqueues the send)
    invoice_finalize(invoice=draft)

    # then the worker sends it and records it
    wait_for(lambda: InvoiceEmail.objects.filter(status="sent").exists())
    (message,) = mail.outbox
    assert message.to == ["ap@acme.example"]
    assert "$147.00" in message.subject
