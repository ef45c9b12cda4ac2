"""Celery tasks of the billing cycle: ids in, a service call out, each safe to run twice.

The beat tasks (``invoices.bill_due``, ``invoices.finalize_due``, ``invoices.refresh_drafts``,
``invoices.stripe_retry``) select what is due and fan out one task per batch of a few hundred
ids; the batch tasks call the services, which are keyed and locked, so a batch delivered twice
or two runs overlapping bill and finalize everything once.
"""

from datetime import datetime

from celery import shared_task
from django.db import transaction

FINALIZE_BATCH_SIZE = 250


def _chunks(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@shared_task(name="invoices.bill_due")
def invoices_bill_due_task(now: str | None = None) -> int:
    """Start a billing run: record it and enqueue one batch task per few hundred due
    subscriptions. Returns the run's id. ``now`` (ISO 8601) pins the run's clock, for replaying
    a past boundary (the benchmark does); beat gives none."""
    from invoices.services import billing_run_start

    with transaction.atomic():
        run, batches = billing_run_start(now=datetime.fromisoformat(now) if now else None)
        now = run.started_at.isoformat()
        for batch in batches:
            transaction.on_commit(
                lambda batch=batch: invoices_bill_batch_task.delay(run.pk, batch, now)
            )
    return run.pk


@shared_task(name="invoices.bill_batch")
def invoices_bill_batch_task(run_id: int, subscription_ids: list[int], now: str) -> int:
    from invoices.services import billing_batch_run

    return billing_batch_run(
        run_id=run_id, subscription_ids=subscription_ids, now=datetime.fromisoformat(now)
    )


@shared_task(name="invoices.finalize_due")
def invoices_finalize_due_task() -> int:
    """Enqueue the finalization of drafts whose grace period has ended, in batches."""
    from django.utils import timezone

    from invoices.services import drafts_due_ids

    ids = drafts_due_ids(now=timezone.now())
    for batch in _chunks(ids, FINALIZE_BATCH_SIZE):
        invoices_finalize_batch_task.delay(batch)
    return len(ids)


@shared_task(name="invoices.finalize_batch")
def invoices_finalize_batch_task(invoice_ids: list[int]) -> int:
    from invoices.services import drafts_finalize

    return drafts_finalize(invoice_ids=invoice_ids)


@shared_task(name="invoices.refresh_drafts")
def invoices_refresh_drafts_task() -> int:
    """Recompute the drafts that late events of their period have reached."""
    from invoices.services import drafts_with_late_events_ids

    ids = drafts_with_late_events_ids()
    for batch in _chunks(ids, FINALIZE_BATCH_SIZE):
        invoices_refresh_batch_task.delay(batch)
    return len(ids)


@shared_task(name="invoices.refresh_batch")
def invoices_refresh_batch_task(invoice_ids: list[int]) -> int:
    from invoices.services import drafts_refresh

    return drafts_refresh(invoice_ids=invoice_ids)


@shared_task(name="invoices.stripe_push")
def invoices_stripe_push_task(invoice_id: int) -> None:
    """Create (or find again, by idempotency key) the invoice's payment in Stripe."""
    from invoices.stripe_gateway import stripe_configured
    from invoices.stripe_services import invoice_stripe_push

    if stripe_configured():
        invoice_stripe_push(invoice_id=invoice_id)


@shared_task(name="invoices.stripe_retry")
def invoices_stripe_retry_task() -> int:
    """Push again the finalized invoices whose push failed or never happened."""
    from invoices.stripe_gateway import stripe_configured
    from invoices.stripe_services import invoices_to_push_ids

    if not stripe_configured():
        return 0
    ids = invoices_to_push_ids()
    for invoice_id in ids:
        invoices_stripe_push_task.delay(invoice_id)
    return len(ids)


@shared_task(name="invoices.email_send")
def invoices_email_send_task(email_id: int) -> str:
    """Send a recorded invoice e-mail (a pending one only: a second delivery sends nothing)."""
    from invoices.services.emails import invoice_email_send

    email = invoice_email_send(email_id=email_id)
    return email.status if email is not None else "missing"
