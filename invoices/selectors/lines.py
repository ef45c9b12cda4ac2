"""The lines an invoice would have: a read, computed from the catalog and the usage, used by
the billing services (which store them) and by the running-period views (which do not).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet, Sum

from invoices.calculations import (
    BilledSoFar,
    ChargeUsage,
    LineDraft,
    adjustment_lines,
    base_fee_line,
    charge_lines,
)
from invoices.credit_math import credits_apply
from invoices.models import Invoice, InvoiceKind, InvoiceLine, InvoiceStatus
from invoices.selectors.adjustments import coupon_and_tax_lines
from invoices.selectors.billing import Segment, billing_segments, charge_usages
from invoices.selectors.credits import period_credits_get
from invoices.selectors.usage import UsageLookup
from invoices.sql import late_events_exist_sql
from plans.models import Subscription

# Finalized periods older than this are not searched for late usage.
LATE_USAGE_HORIZON = timedelta(days=400)


def _base_fee_description(segment: Segment) -> str:
    return f"{segment.pricing.plan_code} v{segment.pricing.version_number} base fee"


def period_lines(*, subscription: Subscription, **kwargs: Any) -> list[LineDraft]:
    """The lines of the subscription's invoice for a period (``priced_lines``), then its coupon
    and tax lines (``invoices.selectors.adjustments``): the one place an invoice's lines are
    computed, for drafts, previews and finalization alike."""
    lines = priced_lines(subscription=subscription, **kwargs)
    lookup = kwargs.get("lookup")
    return lines + coupon_and_tax_lines(
        customer=subscription.customer,
        currency=subscription.version.currency,
        lines=lines,
        coupon_customers=lookup.coupon_customers if lookup else None,
        known_rates=lookup.tax_rates if lookup else None,
    )


def priced_lines(
    *,
    subscription: Subscription,
    kind: str,
    period_start: datetime,
    period_end: datetime,
    billed_end: datetime | None = None,
    lookup: UsageLookup,
    exclude_invoice_id: int | None = None,
    now: datetime,
) -> list[LineDraft]:
    """The lines of the subscription's ``kind`` invoice for a period (see DESIGN.md, billing)."""
    currency = subscription.version.currency
    customer_id = subscription.customer.external_id
    trial_ends_at = subscription.trial_ends_at
    if kind == InvoiceKind.ADVANCE:
        segment = billing_segments(
            subscription=subscription,
            period_start=period_start,
            period_end=period_end,
            lookup=lookup,
        )[0]
        window = segment.window
        whole = type(window)(window.start, period_end, window.full_start, window.full_end)
        line = base_fee_line(
            fee=segment.pricing.base_fee,
            currency=currency,
            window=whole,
            trial_ends_at=trial_ends_at,
            description=_base_fee_description(segment) + " (in advance)",
            version_id=segment.pricing.version_id,
        )
        return [line] if line else []

    lines: list[LineDraft] = []
    segments = billing_segments(
        subscription=subscription,
        period_start=period_start,
        period_end=period_end,
        billed_end=billed_end,
        lookup=lookup,
    )
    usages: list[ChargeUsage] = []
    for segment in segments:
        if not segment.pricing.base_fee_in_advance:
            line = base_fee_line(
                fee=segment.pricing.base_fee,
                currency=currency,
                window=segment.window,
                trial_ends_at=trial_ends_at,
                description=_base_fee_description(segment),
                version_id=segment.pricing.version_id,
            )
            if line:
                lines.append(line)
        segment_usages = charge_usages(customer_id=customer_id, segment=segment, lookup=lookup)
        usages += segment_usages
        lines += charge_lines(usages=segment_usages, currency=currency, window=segment.window)
    lines = _credits_applied(
        subscription=subscription,
        lookup=lookup,
        segments=segments,
        usages=usages,
        lines=lines,
        start=period_start,
        end=billed_end or period_end,
    )
    lines += late_usage_lines(
        subscription=subscription, lookup=lookup, exclude_invoice_id=exclude_invoice_id, now=now
    )
    return lines


def _credits_applied(
    *,
    subscription: Subscription,
    lookup: UsageLookup,
    segments: list[Segment],
    usages: list[ChargeUsage],
    lines: list[LineDraft],
    start: datetime,
    end: datetime,
) -> list[LineDraft]:
    """The lines with the period's credits applied (read, not burned: see
    ``invoices.selectors.credits``)."""
    if not usages:
        return lines
    found = period_credits_get(
        customer_id=subscription.customer_id,
        pricings=[segment.pricing for segment in segments],
        start=start,
        end=end,
        credit_customers=lookup.credit_customers,
    )
    if not found.credits:
        return lines
    applied = credits_apply(
        usages=usages,
        lines=lines,
        credits=found.credits,
        currency=subscription.version.currency,
        included=found.included,
    )
    return list(applied.lines)


def finalized_recently(*, subscription_ids: Iterable[int], now: datetime) -> QuerySet[Invoice]:
    """Finalized period invoices of the subscriptions recent enough to look for late usage."""
    return Invoice.objects.filter(
        subscription_id__in=list(subscription_ids),
        kind=InvoiceKind.PERIOD,
        status__in=(InvoiceStatus.FINALIZED, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE),
        period_end__gt=now - LATE_USAGE_HORIZON,
    )


def late_candidate_ids(*, subscription_ids: Iterable[int], now: datetime) -> set[int]:
    """Those of the subscriptions that have recent finalized period invoices (one query)."""
    found = finalized_recently(subscription_ids=subscription_ids, now=now)
    return set(found.values_list("subscription_id", flat=True).distinct())


def _late_sources(subscription: Subscription, now: datetime) -> list[Invoice]:
    """Finalized period invoices of the subscription with events received after they were
    finalized: one EXISTS probe per recent finalized invoice."""
    candidates = finalized_recently(subscription_ids=[subscription.pk], now=now).order_by(
        "period_start"
    )
    late = []
    with connection.cursor() as cursor:
        for invoice in candidates:
            cursor.execute(
                late_events_exist_sql(),
                [
                    subscription.customer.external_id,
                    invoice.period_start,
                    invoice.period_end,
                    invoice.finalized_at,
                ],
            )
            if cursor.fetchone()[0]:
                late.append(invoice)
    return late


def late_usage_lines(
    *,
    subscription: Subscription,
    lookup: UsageLookup,
    exclude_invoice_id: int | None,
    now: datetime,
) -> list[LineDraft]:
    """Adjustment lines for usage that arrived after its period's invoice was finalized: the
    difference between the period's usage priced now and what was billed for it so far."""
    lines: list[LineDraft] = []
    currency = subscription.version.currency
    known = lookup.late_candidates
    if known is not None and subscription.pk not in known:
        return lines
    for source in _late_sources(subscription, now):
        billed_rows = (
            InvoiceLine.objects.filter(
                Q(invoice=source, kind=InvoiceLine.Kind.USAGE)
                | Q(source_invoice=source, kind=InvoiceLine.Kind.ADJUSTMENT),
                charge__isnull=False,
            )
            .exclude(invoice__status=InvoiceStatus.VOID)
            .exclude(invoice_id=exclude_invoice_id)
            .values("charge_id", "group_key", "metric_code", "line_start")
            .annotate(amount=Sum("amount_precise"), events=Sum("event_count"))
        )
        # Invisible credits lowered a usage line; what its usage cost is the line plus them.
        credited = {
            (row["charge_id"], row["group_key"], row["line_start"]): Decimal(
                row["breakdown"]["credited_amount"]
            )
            for row in InvoiceLine.objects.filter(
                invoice=source, kind=InvoiceLine.Kind.USAGE, breakdown__has_key="credited_amount"
            ).values("charge_id", "group_key", "line_start", "breakdown")
        }
        billed: dict[datetime, list[BilledSoFar]] = defaultdict(list)
        for row in billed_rows:
            key = (row["charge_id"], row["group_key"], row["line_start"])
            billed[row["line_start"]].append(
                BilledSoFar(
                    source_invoice_id=source.pk,
                    charge_id=row["charge_id"],
                    group_key=row["group_key"],
                    metric_code=row["metric_code"],
                    amount_precise=(row["amount"] or Decimal(0)) + credited.get(key, Decimal(0)),
                    event_count=row["events"] or 0,
                )
            )
        period = f"{source.number} ({source.period_start:%Y-%m-%d} – {source.period_end:%Y-%m-%d})"
        for segment in billing_segments(
            subscription=subscription,
            period_start=source.period_start,
            period_end=source.period_end,
        ):
            usages = charge_usages(
                customer_id=subscription.customer.external_id, segment=segment, lookup=lookup
            )
            lines += adjustment_lines(
                usages=usages,
                billed=billed.get(segment.window.start, []),
                source_invoice_id=source.pk,
                currency=currency,
                window=segment.window,
                period_label=period,
            )
    return lines
