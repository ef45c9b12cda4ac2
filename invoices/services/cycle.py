"""The billing cycle: bill what is due for a subscription, in batches, recorded as runs.

``subscription_bill_due`` is the unit of work: under the subscription's row lock it bills every
ended period (catching up one period at a time, advancing the subscription after each), the
last part of a period cut short by an immediate cancellation, and the in-advance base fee of the
period that is running. Everything is keyed, so calling it again changes nothing.
"""

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from billing_site.core.exceptions import ConflictError
from invoices.models import BillingRun, Invoice, InvoiceKind, InvoiceStatus
from invoices.selectors.adjustments import coupon_customers_ids, tax_rates_prefetch
from invoices.selectors.billing import plain_subscription_ids
from invoices.selectors.credits import customers_with_credits_ids
from invoices.selectors.lines import late_candidate_ids
from invoices.selectors.usage import UsageLookup, UsageRequest
from invoices.services.batch import NOTHING_BILLED, BatchBilled, subscriptions_bill_plain
from invoices.services.billing import invoice_create_for_period
from invoices.services.lifecycle import invoice_finalize, invoice_recompute
from metering.models import Event
from plans.models import Subscription
from plans.services import subscription_period_advance

LIVE = (Subscription.Status.TRIALING, Subscription.Status.ACTIVE)
BATCH_SIZE = 250
_MAX_ERRORS_KEPT = 50
logger = logging.getLogger(__name__)


def _locked(subscription_id: int) -> Subscription:
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("version__plan", "customer")
        .get(pk=subscription_id)
    )


@transaction.atomic
def subscription_bill_due(
    *,
    subscription_id: int,
    now: datetime | None = None,
    lookup: UsageLookup | None = None,
    actor: Any = None,
) -> list[Invoice]:
    """Bill everything due for the subscription at ``now``; returns the invoices it created."""
    now = now or timezone.now()
    lookup = lookup or UsageLookup()
    subscription = _locked(subscription_id)
    created: list[Invoice] = []

    def bill(kind: str, start: datetime, end: datetime, billed_end: datetime | None = None) -> None:
        invoice, is_new = invoice_create_for_period(
            subscription=subscription,
            kind=kind,
            period_start=start,
            period_end=end,
            billed_end=billed_end,
            now=now,
            lookup=lookup,
            actor=actor,
        )
        if is_new:
            created.append(invoice)

    def bill_in_advance() -> None:
        if (
            subscription.is_live
            and subscription.version.base_fee_in_advance
            and subscription.current_period_start <= now
        ):
            bill(
                InvoiceKind.ADVANCE,
                subscription.current_period_start,
                subscription.current_period_end,
            )

    bill_in_advance()
    while subscription.is_live and subscription.current_period_end <= now:
        bill(
            InvoiceKind.PERIOD,
            subscription.current_period_start,
            subscription.current_period_end,
        )
        subscription = subscription_period_advance(subscription=subscription, now=now, actor=actor)
        bill_in_advance()
    if (
        subscription.status == Subscription.Status.CANCELED
        and subscription.ended_at is not None
        and subscription.ended_at > subscription.current_period_start
    ):
        bill(
            InvoiceKind.PERIOD,
            subscription.current_period_start,
            subscription.current_period_end,
            billed_end=min(subscription.ended_at, subscription.current_period_end),
        )
    for invoice in created:
        if invoice.finalize_after <= now:
            invoice_finalize(invoice=invoice, actor=actor, now=now, recompute=False)
    return created


def subscriptions_due_ids(*, now: datetime) -> list[int]:
    """Subscriptions with something to bill at ``now``, by id."""
    has_period_invoice = Invoice.objects.filter(
        subscription=OuterRef("pk"),
        kind=InvoiceKind.PERIOD,
        period_start=OuterRef("current_period_start"),
    )
    has_advance_invoice = Invoice.objects.filter(
        subscription=OuterRef("pk"),
        kind=InvoiceKind.ADVANCE,
        period_start=OuterRef("current_period_start"),
    )
    ended = Q(status__in=LIVE, current_period_end__lte=now)
    advance = Q(
        status__in=LIVE,
        version__base_fee_in_advance=True,
        current_period_start__lte=now,
    ) & ~Exists(has_advance_invoice)
    cut_short = Q(
        status=Subscription.Status.CANCELED, ended_at__gt=F("current_period_start")
    ) & ~Exists(has_period_invoice)
    return list(
        Subscription.objects.filter(ended | advance | cut_short)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def billing_run_start(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> tuple[BillingRun, list[list[int]]]:
    """Record a run and split the due subscriptions into batches (the caller enqueues them)."""
    now = now or timezone.now()
    due = subscriptions_due_ids(now=now)
    batches = [due[i : i + batch_size] for i in range(0, len(due), batch_size)]
    run = BillingRun.objects.create(
        started_at=now,
        subscriptions_due=len(due),
        batches_total=len(batches),
        status=BillingRun.Status.RUNNING if batches else BillingRun.Status.DONE,
        finished_at=None if batches else now,
    )
    return run, batches


def _prefetch(lookup: UsageLookup, subscriptions: Sequence[Subscription], now: datetime) -> None:
    """Read the usage of every ended period of the batch at once, from the current versions'
    charges (a period split by a plan change reads its parts on a miss)."""
    requests = []
    charges: dict[int, list[int]] = {}
    for subscription in subscriptions:
        end = subscription.current_period_end
        if subscription.status == Subscription.Status.CANCELED and subscription.ended_at:
            end = min(subscription.ended_at, end)
        elif end > now:
            continue
        if end <= subscription.current_period_start:
            continue
        version_id = subscription.version_id
        if version_id not in charges:
            charges[version_id] = list(
                subscription.version.charges.values_list("metric_id", flat=True)
            )
        requests += [
            UsageRequest(
                metric_id, subscription.customer.external_id, subscription.current_period_start, end
            )
            for metric_id in charges[version_id]
        ]
    lookup.prefetch(requests)


def _bill_plain(ids: list[int], lookup: UsageLookup, now: datetime) -> BatchBilled:
    """The batch path for the plain subscriptions; on any error, nothing of it is kept and the
    one-by-one path bills (and records the failures of) every subscription."""
    try:
        return subscriptions_bill_plain(subscription_ids=ids, lookup=lookup, now=now)
    except Exception:
        logger.exception("Batch billing failed; billing the batch one subscription at a time.")
        return NOTHING_BILLED


def billing_batch_run(
    *, run_id: int | None, subscription_ids: Sequence[int], now: datetime | None = None
) -> int:
    """Bill a batch: its plain subscriptions together (``subscriptions_bill_plain``, one
    transaction), then each of the others in its own transaction so one failure does not stop
    the others; failures are recorded on the run. Returns the number of invoices created."""
    now = now or timezone.now()
    subscriptions = list(
        Subscription.objects.filter(pk__in=subscription_ids)
        .select_related("customer", "version")
        .order_by("pk")
    )
    lookup = UsageLookup()
    ids = [subscription.pk for subscription in subscriptions]
    lookup.plain = plain_subscription_ids(ids)
    lookup.late_candidates = late_candidate_ids(subscription_ids=ids, now=now)
    lookup.credit_customers = customers_with_credits_ids(subscription_ids=ids)
    customer_ids = {subscription.customer_id for subscription in subscriptions}
    lookup.coupon_customers = coupon_customers_ids(customer_ids=customer_ids)
    lookup.tax_rates = tax_rates_prefetch(
        customer_ids=customer_ids,
        version_ids={subscription.version_id for subscription in subscriptions},
    )
    _prefetch(lookup, subscriptions, now)
    batch = _bill_plain(ids, lookup, now)
    created, errors = len(batch.invoices), []
    for subscription in subscriptions:
        if subscription.pk in batch.subscription_ids:
            continue
        try:
            created += len(
                subscription_bill_due(subscription_id=subscription.pk, now=now, lookup=lookup)
            )
        except Exception as error:  # recorded on the run; the batch goes on
            errors.append(
                {
                    "subscription": subscription.external_id,
                    "error": f"{type(error).__name__}: {error}"[:500],
                }
            )
    if run_id is not None:
        billing_run_batch_record(run_id=run_id, created=created, errors=errors)
    return created


@transaction.atomic
def billing_run_batch_record(*, run_id: int, created: int, errors: list[dict[str, str]]) -> None:
    run = BillingRun.objects.select_for_update().get(pk=run_id)
    run.batches_done += 1
    run.invoices_created += created
    run.errors_count += len(errors)
    run.errors = (list(run.errors) + errors)[:_MAX_ERRORS_KEPT]
    if run.batches_done >= run.batches_total:
        run.finished_at = timezone.now()
        run.status = BillingRun.Status.FAILED if run.errors_count else BillingRun.Status.DONE
    run.save()


def drafts_due_ids(*, now: datetime) -> list[int]:
    """Drafts whose grace period has ended."""
    return list(
        Invoice.objects.filter(status=InvoiceStatus.DRAFT, finalize_after__lte=now)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def drafts_finalize(*, invoice_ids: Sequence[int], now: datetime | None = None) -> int:
    """Finalize the listed drafts (each in its own transaction); ones no longer drafts are
    skipped, so running it twice finalizes each once."""
    now = now or timezone.now()
    done = 0
    for invoice in Invoice.objects.filter(pk__in=invoice_ids, status=InvoiceStatus.DRAFT):
        try:
            invoice_finalize(invoice=invoice, now=now)
        except ConflictError:
            continue  # another worker finalized it first
        done += 1
    return done


def drafts_with_late_events_ids() -> list[int]:
    """Drafts with events of their period received since their lines were computed."""
    late = Event.objects.filter(
        customer_id=OuterRef("customer__external_id"),
        timestamp__gte=OuterRef("period_start"),
        timestamp__lt=OuterRef("period_end"),
        received_at__gt=OuterRef("computed_at"),
    )
    return list(
        Invoice.objects.filter(status=InvoiceStatus.DRAFT, kind=InvoiceKind.PERIOD)
        .filter(Exists(late))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def drafts_refresh(*, invoice_ids: Sequence[int], now: datetime | None = None) -> int:
    """Recompute the listed drafts (late events arrived); finalized ones are skipped."""
    done = 0
    for invoice in Invoice.objects.filter(pk__in=invoice_ids, status=InvoiceStatus.DRAFT):
        try:
            invoice_recompute(invoice=invoice, now=now)
        except ConflictError:
            continue
        done += 1
    return done
