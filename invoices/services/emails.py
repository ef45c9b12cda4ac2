"""Invoice e-mails: recorded first, sent by a task after commit, once per (invoice, event).

``invoice_email_schedule`` runs inside the transaction that finalizes or pays the invoice: it
records the e-mail (the unique constraint on automatic sends makes a second call return the
first row) and enqueues the send only when that transaction commits, so a rolled-back
finalization sends nothing. ``invoice_email_send`` takes the row's lock and sends only a pending
row, so a task delivered twice sends once. A customer without an address is recorded as
skipped. A staff resend is a new row of its own.
"""

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from billing_site.core.audit import actor_label
from billing_site.core.exceptions import ConflictError
from invoices.display import money_text
from invoices.models import Invoice, InvoiceEmail, InvoiceEmailEvent, InvoiceStatus
from invoices.printable import invoice_print_html
from invoices.transitions import invoice_event_write

_RESENDABLE = {
    InvoiceStatus.FINALIZED: InvoiceEmailEvent.FINALIZED,
    InvoiceStatus.UNCOLLECTIBLE: InvoiceEmailEvent.FINALIZED,
    InvoiceStatus.PAID: InvoiceEmailEvent.PAID,
}


def _enqueue(email: InvoiceEmail) -> None:
    if email.status != InvoiceEmail.Status.PENDING:
        return
    from invoices.tasks import invoices_email_send_task

    email_id = email.pk
    transaction.on_commit(lambda: invoices_email_send_task.delay(email_id))


def _record(invoice: Invoice, event: str, *, resend: bool, actor: Any) -> InvoiceEmail:
    recipient = invoice.customer.email
    return InvoiceEmail.objects.create(
        invoice=invoice,
        event=event,
        resend=resend,
        recipient=recipient,
        status=InvoiceEmail.Status.PENDING if recipient else InvoiceEmail.Status.SKIPPED,
        requested_by=actor_label(actor)[:150],
    )


@transaction.atomic(savepoint=False)  # called inside finalization; see invoice_status_set
def invoice_email_schedule(*, invoice: Invoice, event: str, actor: Any = None) -> InvoiceEmail:
    """Record the e-mail of ``event`` for the invoice and send it after commit; the existing
    row when it was already recorded."""
    existing = InvoiceEmail.objects.filter(invoice=invoice, event=event, resend=False).first()
    if existing is not None:
        return existing
    email = _record(invoice, event, resend=False, actor=actor)
    _enqueue(email)
    return email


@transaction.atomic
def invoice_email_resend(*, invoice: Invoice, actor: Any = None) -> InvoiceEmail:
    """Send the invoice's latest e-mail again (the paid one when it is paid)."""
    invoice = Invoice.objects.select_related("customer").get(pk=invoice.pk)
    event = _RESENDABLE.get(invoice.status)
    if event is None:
        raise ConflictError(
            f"Invoice {invoice} is {invoice.status}; only issued invoices are e-mailed.",
            code="not_emailed",
        )
    email = _record(invoice, event, resend=True, actor=actor)
    invoice_event_write(
        invoice=invoice,
        action="email.resend",
        actor=actor,
        details={"event": event, "recipient": email.recipient, "status": email.status},
    )
    _enqueue(email)
    return email


def invoice_email_message(email: InvoiceEmail) -> EmailMultiAlternatives:
    """The message: subject and bodies from ``templates/invoices/email/``, the printable invoice
    attached as HTML."""
    invoice = email.invoice
    context = {
        "invoice": invoice,
        "customer": invoice.customer,
        "event": email.event,
        "total": money_text(invoice.total, invoice.currency),
    }
    base = f"invoices/email/{email.event}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{base}_body.txt", context),
        from_email=settings.INVOICE_EMAIL_FROM,
        to=[email.recipient],
        reply_to=settings.INVOICE_EMAIL_REPLY_TO or None,
    )
    message.attach_alternative(render_to_string(f"{base}_body.html", context), "text/html")
    name = invoice.number or f"draft-{invoice.pk}"
    message.attach(f"invoice-{name}.html", invoice_print_html(invoice), "text/html")
    return message


@transaction.atomic
def invoice_email_send(*, email_id: int) -> InvoiceEmail | None:
    """Send a pending e-mail and record the outcome; any other row is left as it is (and an id
    that no longer exists, its invoice gone, is nothing to send)."""
    email = (
        InvoiceEmail.objects.select_for_update(of=("self",))
        .select_related("invoice__customer")
        .filter(pk=email_id)
        .first()
    )
    if email is None or email.status != InvoiceEmail.Status.PENDING:
        return email
    try:
        invoice_email_message(email).send()
    except Exception as error:  # SMTP, socket or template: recorded on the row, staff resend
        email.status = InvoiceEmail.Status.FAILED
        email.error = f"{type(error).__name__}: {error}"[:2000]
    else:
        email.status = InvoiceEmail.Status.SENT
        email.sent_at = timezone.now()
    email.save(update_fields=["status", "error", "sent_at"])
    return email
