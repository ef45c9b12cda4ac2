"""Invoice e-mails: sent after commit, once per (invoice, event), with the printable invoice
attached; a resend is its own send; no address is recorded as skipped; a failing mail server is
recorded as failed."""

import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction

from billing_site.celery import app
from billing_site.core.exceptions import ConflictError
from invoices.models import InvoiceEmail
from invoices.services import invoice_finalize, invoice_mark_paid
from invoices.services.emails import invoice_email_resend, invoice_email_schedule
from invoices.tasks import invoices_email_send_task
from tests.invoices.add_on_factories import one_off
from tests.invoices.factories import utc
from tests.plans.factories import make_customer

pytestmark = pytest.mark.django_db

NOW = utc(2026, 3, 10, 15, 30)


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery tasks run in the calling thread, when the transaction that enqueued them commits."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture
def acme():
    return make_customer("acme", name="Acme Corp", email="ap@acme.example")


def test_finalizing_sends_one_email_with_the_printable_invoice(
    acme, eager_tasks, django_capture_on_commit_callbacks
):
    # given a one-off draft of 2 × 49.00
    draft = one_off(acme, ("setup", "2"))

    # when it is finalized (the send runs after commit)
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_finalize(invoice=draft, now=NOW)

    # then the customer got one e-mail naming the number, amount and due date, invoice attached
    (message,) = mail.outbox
    assert message.to == ["ap@acme.example"]
    assert message.subject == "Invoice INV-2026-000001: $98.00 due 2026-04-09"
    assert "Hello Acme Corp," in message.body
    assert "It is due on April 9, 2026." in message.body
    ((name, content, mimetype),) = message.attachments
    assert (name, mimetype) == ("invoice-INV-2026-000001.html", "text/html")
    assert "Invoice INV-2026-000001" in content
    assert "$98.00" in content
    (html, html_type) = message.alternatives[0]
    assert html_type == "text/html"
    assert "<strong>$98.00</strong>" in html
    email = InvoiceEmail.objects.get()
    assert (email.invoice_id, email.event, email.status, email.recipient) == (
        invoice.pk,
        "finalized",
        "sent",
        "ap@acme.example",
    )
    assert email.sent_at is not None


def test_each_event_is_sent_once_however_often_it_is_triggered(
    acme, eager_tasks, django_capture_on_commit_callbacks
):
    draft = one_off(acme, ("setup", "1"))
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_finalize(invoice=draft, now=NOW)
    finalized = InvoiceEmail.objects.get(event="finalized")

    # when the schedule is called again and the send task is delivered twice more
    with django_capture_on_commit_callbacks(execute=True):
        assert invoice_email_schedule(invoice=invoice, event="finalized") == finalized
    invoices_email_send_task.delay(finalized.pk)
    invoices_email_send_task.delay(finalized.pk)
    # and the invoice is marked paid twice (a webhook delivered twice does this)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_mark_paid(invoice=invoice, reason="bank transfer", paid_at=NOW + timedelta(1))
    with django_capture_on_commit_callbacks(execute=True):
        invoice_mark_paid(invoice=invoice, reason="bank transfer")

    # then two e-mails in all: issued, then the receipt
    assert [m.subject for m in mail.outbox] == [
        "Invoice INV-2026-000001: $49.00 due 2026-04-09",
        "Payment received for invoice INV-2026-000001: $49.00",
    ]
    assert "We received your payment of $49.00 for invoice INV-2026-000001 on March 11, 2026." in (
        mail.outbox[1].body
    )
    assert list(InvoiceEmail.objects.values_list("event", "status")) == [
        ("finalized", "sent"),
        ("paid", "sent"),
    ]


def test_nothing_is_sent_when_the_finalization_rolls_back(
    acme, eager_tasks, django_capture_on_commit_callbacks
):
    draft = one_off(acme, ("setup", "1"))

    def finalize_then_crash() -> None:
        with transaction.atomic():
            invoice_finalize(invoice=draft, now=NOW)
            raise RuntimeError("crash before commit")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError):
            finalize_then_crash()

    assert callbacks == []
    assert mail.outbox == []
    assert InvoiceEmail.objects.count() == 0


def test_a_customer_without_an_address_is_recorded_as_skipped(
    eager_tasks, django_capture_on_commit_callbacks
):
    customer = make_customer("globex")
    draft = one_off(customer, ("setup", "1"))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invoice_finalize(invoice=draft, now=NOW)

    assert mail.outbox == []
    assert list(InvoiceEmail.objects.values_list("event", "status", "recipient")) == [
        ("finalized", "skipped", "")
    ]
    assert callbacks == []  # no send was enqueued


def test_resend_sends_the_latest_email_again_as_its_own_record(
    acme, eager_tasks, django_capture_on_commit_callbacks
):
    draft = one_off(acme, ("setup", "1"))
    with django_capture_on_commit_callbacks(execute=True):
        invoice = invoice_finalize(invoice=draft, now=NOW)

    with django_capture_on_commit_callbacks(execute=True):
        resent = invoice_email_resend(invoice=invoice, actor=None)

    assert len(mail.outbox) == 2
    assert mail.outbox[0].subject == mail.outbox[1].subject
    resent.refresh_from_db()
    assert (resent.event, resent.resend, resent.status) == ("finalized", True, "sent")
    assert invoice.events.filter(action="email.resend").count() == 1


def test_a_draft_is_not_resent(acme):
    draft = one_off(acme, ("setup", "1"))

    with pytest.raises(ConflictError):
        invoice_email_resend(invoice=draft)

    assert InvoiceEmail.objects.count() == 0


def test_a_mail_server_that_refuses_is_recorded_as_failed(
    acme, eager_tasks, settings, django_capture_on_commit_callbacks
):
    # given SMTP pointed at a port where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    draft = one_off(acme, ("setup", "1"))

    with django_capture_on_commit_callbacks(execute=True):
        invoice_finalize(invoice=draft, now=NOW)

    email = InvoiceEmail.objects.get()
    assert (email.status, email.sent_at) == ("failed", None)
    assert email.error.startswith("ConnectionRefusedError")
