"""Reads of pay-in-advance billing: which metrics to read, where an event belongs, which
subscriptions have fees to invoice, and a fee invoice's lines."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from billing_site.core.money import quantize
from billing_site.core.periods import period_containing
from invoices.advance.models import AdvanceFee
from invoices.calculations import LineDraft
from metering.models import BillableMetric
from plans.models import Charge, Subscription

_PRECISE = Decimal("1e-20")
_UNIT_PLACES = Decimal("1e-12")


def advance_metrics() -> list[BillableMetric]:
    """The metrics that some plan version charges in advance."""
    charged = Charge.objects.filter(pay_in_advance=True).values("metric_id")
    return list(BillableMetric.objects.filter(pk__in=charged).order_by("pk"))


def advance_version_ids(*, metric: BillableMetric) -> set[int]:
    """The plan versions that charge the metric in advance."""
    charges = Charge.objects.filter(metric=metric, pay_in_advance=True)
    return set(charges.values_list("version_id", flat=True))


def subscriptions_by_customer(customer_ids: Iterable[str]) -> dict[str, list[Subscription]]:
    """Every subscription of the customers (by external id), latest start first (one query)."""
    found: dict[str, list[Subscription]] = defaultdict(list)
    subscriptions = (
        Subscription.objects.filter(customer__external_id__in=set(customer_ids))
        .select_related("customer", "version__plan")
        .order_by("-started_at", "-pk")
    )
    for subscription in subscriptions:
        found[subscription.customer.external_id].append(subscription)
    return found


def event_period(
    *,
    subscriptions: list[Subscription],
    subscription_external_id: str,
    at: datetime,
) -> tuple[Subscription, datetime, datetime] | None:
    """The subscription an event at ``at`` belongs to and the period ``[start, end)`` holding it,
    or None: before the subscription started, after it ended, or before its billing anchor
    (the period then was under another interval; not billed in advance)."""
    for subscription in subscriptions:
        if subscription_external_id and subscription.external_id != subscription_external_id:
            continue
        if at < subscription.started_at:
            continue
        if subscription.ended_at is not None and at >= subscription.ended_at:
            continue
        if subscription.current_period_start <= at < subscription.current_period_end:
            return subscription, subscription.current_period_start, subscription.current_period_end
        if at < subscription.billing_anchor:
            return None
        start, end = period_containing(
            subscription.billing_anchor,
            at,
            subscription.version.interval,  # type: ignore[arg-type]
            subscription.billing_time,  # type: ignore[arg-type]
        )
        return subscription, start, end
    return None


def subscriptions_with_open_fees_ids() -> list[int]:
    """Subscriptions with fees not yet on an invoice."""
    return list(
        AdvanceFee.objects.filter(invoice__isnull=True)
        .order_by("subscription_id")
        .values_list("subscription_id", flat=True)
        .distinct()
    )


def fee_line(fee: AdvanceFee) -> LineDraft:
    """A fee as an invoice line: the event it billed, the increase and its tier breakdown."""
    unit_amount = (fee.amount_precise / fee.units).quantize(_UNIT_PLACES) if fee.units else 0
    return LineDraft(
        kind="usage",
        description=f"{fee.description} (event {fee.transaction_id})"[:300],
        quantity=fee.units,
        unit_amount=Decimal(unit_amount),
        amount_precise=fee.amount_precise.quantize(_PRECISE),
        amount=quantize(fee.amount_precise, fee.currency),
        breakdown=dict(fee.breakdown),
        line_start=fee.period_start,
        line_end=fee.period_end,
        version_id=fee.charge.version_id,
        charge_id=fee.charge_id,
        metric_code=fee.metric_code,
        event_count=1,
    )


def fee_invoice_lines(*, invoice_id: int) -> list[LineDraft]:
    """The lines of a fee invoice: one per fee grouped onto it, in the order events arrived."""
    fees = AdvanceFee.objects.filter(invoice_id=invoice_id).select_related("charge")
    return [fee_line(fee) for fee in fees.order_by("event_id", "pk")]
