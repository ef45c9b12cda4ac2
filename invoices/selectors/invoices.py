"""Reads of invoices: lists, one invoice, and the running period's draft (computed, not
stored)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from billing_site.core.exceptions import NotFoundError
from invoices.calculations import LineDraft, invoice_total
from invoices.models import Invoice, InvoiceKind, InvoiceLine
from invoices.selectors.lines import period_lines
from invoices.selectors.usage import UsageLookup
from plans.models import Customer, Subscription


def invoices_list(
    *, customer: Customer | None = None, status: str | None = None
) -> QuerySet[Invoice]:
    invoices = Invoice.objects.select_related("customer", "subscription").prefetch_related(
        Prefetch("lines", queryset=InvoiceLine.objects.order_by("position", "id"))
    )
    if customer is not None:
        invoices = invoices.filter(customer=customer)
    if status:
        invoices = invoices.filter(status=status)
    return invoices.order_by("-period_start", "-id")


def invoice_get(*, invoice_id: int) -> Invoice:
    invoice = invoices_list().filter(pk=invoice_id).first()
    if invoice is None:
        raise NotFoundError(f"No invoice {invoice_id}.")
    return invoice


@dataclass(frozen=True)
class RunningPeriod:
    """What a live subscription's running period comes to so far, as its invoice would say."""

    subscription: Subscription
    period_start: datetime
    period_end: datetime
    currency: str
    lines: tuple[LineDraft, ...]
    computed_at: datetime

    @property
    def total(self) -> Decimal:
        return invoice_total(self.lines)


def running_period_get(
    *, subscription: Subscription, now: datetime | None = None, lookup: UsageLookup | None = None
) -> RunningPeriod:
    """The draft of the subscription's current period, from the usage so far (nothing stored).
    The base fee shows unless it was invoiced in advance."""
    now = now or timezone.now()
    lines = period_lines(
        subscription=subscription,
        kind=InvoiceKind.PERIOD,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        lookup=lookup or UsageLookup(),
        now=now,
    )
    return RunningPeriod(
        subscription=subscription,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        currency=subscription.version.currency,
        lines=tuple(lines),
        computed_at=now,
    )


def running_periods_for_customer(
    *, customer: Customer, now: datetime | None = None
) -> list[RunningPeriod]:
    """The running period of each live subscription of the customer."""
    lookup = UsageLookup()
    subscriptions = customer.subscriptions.filter(
        status__in=(Subscription.Status.TRIALING, Subscription.Status.ACTIVE)
    ).select_related("version__plan", "customer")
    return [
        running_period_get(subscription=s, now=now, lookup=lookup)
        for s in subscriptions.order_by("started_at", "pk")
    ]
