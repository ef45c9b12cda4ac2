"""What to bill for a subscription over a period: the windows of the period (one per version
and set of overrides in force), each with its effective pricing, and the usage inputs of the
pure calculation.

A period is split where the plan version changed (an immediate plan change, a scheduled change
that took effect mid-period) or where an override started or ended, so each part is billed on
what was in force during it. Version history is read from the audit log, which every plan
change writes in its own transaction.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.db.models import Q

from billing_site.core.models import AuditLogEntry
from billing_site.core.periods import calendar_period_start
from invoices.calculations import ChargeUsage, Window
from invoices.selectors.split_usage import split_charge_usages
from invoices.selectors.usage import UsageLookup, UsageRequest
from plans.models import BillingTime, PlanVersion, Subscription, SubscriptionOverride
from plans.pricing_groups import grouping_keys
from plans.selectors import EffectivePricing, pricing_for_subscription

_STEPS = {
    "week": relativedelta(weeks=1),
    "month": relativedelta(months=1),
    "quarter": relativedelta(months=3),
    "year": relativedelta(years=1),
}


@dataclass(frozen=True)
class Segment:
    window: Window
    pricing: EffectivePricing


def full_period(
    *, subscription: Subscription, period_start: datetime, period_end: datetime
) -> tuple[datetime, datetime]:
    """The whole period a stored period is part of: a first calendar period that starts off a
    boundary belongs to the calendar period around it (the days over which it is prorated)."""
    if subscription.billing_time != BillingTime.CALENDAR:
        return period_start, period_end
    interval = subscription.version.interval
    start = calendar_period_start(period_start, interval)  # type: ignore[arg-type]
    return start, start + _STEPS[interval]


VERSION_CHANGE_ACTIONS = (
    "subscription.plan_changed",
    "subscription.scheduled_change_applied",
    "subscription.period_advanced",
)


def plain_subscription_ids(subscription_ids: Iterable[int]) -> set[int]:
    """Those of the subscriptions whose pricing is their version's alone: no override ever, no
    scheduled change, no plan change in the audit log (two queries for a batch)."""
    ids = set(subscription_ids)
    changed = {
        int(object_id)
        for object_id in AuditLogEntry.objects.filter(
            object_type="plans.subscription",
            object_id__in=[str(pk) for pk in ids],
            action__in=VERSION_CHANGE_ACTIONS[:2],
        ).values_list("object_id", flat=True)
    }
    special = set(
        Subscription.objects.filter(pk__in=ids)
        .filter(Q(overrides__isnull=False) | Q(scheduled_version__isnull=False))
        .values_list("pk", flat=True)
    )
    return ids - changed - special


def _version_changes(subscription: Subscription) -> list[tuple[datetime, int, int]]:
    """(at, from version id, to version id) of every plan change, oldest first."""
    entries = AuditLogEntry.objects.filter(
        object_type="plans.subscription",
        object_id=str(subscription.pk),
        action__in=VERSION_CHANGE_ACTIONS,
    ).order_by("created_at", "id")
    labels: dict[str, int] = {}
    changes: list[tuple[datetime, int, int]] = []
    for entry in entries:
        data = entry.changes or {}
        if entry.action == "subscription.plan_changed":
            for label in (data.get("from"), data.get("to")):
                if label and label not in labels:
                    code, _, number = label.rpartition(" v")
                    found = PlanVersion.objects.filter(plan__code=code, number=number).first()
                    labels[label] = found.pk if found else 0
            at = datetime.fromisoformat(data["change_at"])
            changes.append((at, labels.get(data.get("from"), 0), labels.get(data.get("to"), 0)))
        elif entry.action == "subscription.scheduled_change_applied":
            changes.append((entry.created_at, data["from_version"], data["to_version"]))
        elif data.get("version_change"):
            at = datetime.fromisoformat(data["closed"][1])
            move = data["version_change"]
            changes.append((at, move["from_version"], move["to_version"]))
    return [change for change in changes if change[1] and change[2]]


def _version_at(at: datetime, changes: list[tuple[datetime, int, int]], current_id: int) -> int:
    for when, from_id, _ in changes:
        if when > at:
            return from_id
    return current_id


def billing_segments(
    *,
    subscription: Subscription,
    period_start: datetime,
    period_end: datetime,
    billed_end: datetime | None = None,
    lookup: UsageLookup | None = None,
) -> list[Segment]:
    """The windows of ``[period_start, billed_end or period_end)``, each with its pricing."""
    end = billed_end or period_end
    full_start, full_end = full_period(
        subscription=subscription, period_start=period_start, period_end=period_end
    )
    if lookup is not None and lookup.plain is not None and subscription.pk in lookup.plain:
        # No override, scheduled change or plan change: one window, the version's pricing.
        cached = lookup.pricing_by_version.get(subscription.version_id)
        if cached is None:
            cached = pricing_for_subscription(subscription=subscription, at=period_start)
            lookup.pricing_by_version[subscription.version_id] = cached
        pricing = replace(cached, subscription_id=subscription.pk, at=period_start)
        return [Segment(Window(period_start, end, full_start, full_end), pricing)]
    changes = _version_changes(subscription)
    cuts = {period_start, end}
    cuts |= {at for at, _, _ in changes if period_start < at < end}
    for override in SubscriptionOverride.objects.filter(subscription=subscription):
        for at in (override.valid_from, override.valid_until):
            if at is not None and period_start < at < end:
                cuts.add(at)
    points = sorted(cuts)
    versions = {subscription.version_id: subscription.version}
    segments = []
    for start, stop in zip(points, points[1:], strict=False):
        version_id = _version_at(start, changes, subscription.version_id)
        if version_id not in versions:
            versions[version_id] = PlanVersion.objects.select_related("plan").get(pk=version_id)
        # An unsaved stand-in with the subscription's id: the overrides are read by that id.
        as_of = Subscription(pk=subscription.pk, version=versions[version_id])
        pricing = pricing_for_subscription(subscription=as_of, at=start)
        segments.append(
            Segment(
                window=Window(start=start, end=stop, full_start=full_start, full_end=full_end),
                pricing=pricing,
            )
        )
    return segments


def usage_requests(*, customer_id: str, segments: Iterable[Segment]) -> list[UsageRequest]:
    return [
        UsageRequest(charge.metric_id, customer_id, segment.window.start, segment.window.end)
        for segment in segments
        for charge in segment.pricing.charges
    ]


def charge_usages(*, customer_id: str, segment: Segment, lookup: UsageLookup) -> list[ChargeUsage]:
    """One priced result per charge of the segment, and per filter and per group where the
    charge has them (``plans.selectors.charge_usage_for_period``)."""
    usages: list[ChargeUsage] = []
    window = segment.window
    for charge in (c for c in segment.pricing.charges if not c.pay_in_advance):  # billed as fees
        if charge.filters or charge.prorated or grouping_keys(charge.properties):
            usages += split_charge_usages(
                customer_id=customer_id,
                window=window,
                version_id=segment.pricing.version_id,
                charge=charge,
                lookup=lookup,
            )
            continue
        fact = lookup.get(
            metric_id=charge.metric_id, customer_id=customer_id, start=window.start, end=window.end
        )
        values: list = []
        if charge.charge_model == "percentage" and fact.event_count:
            values = lookup.event_values(
                metric_id=charge.metric_id,
                customer_id=customer_id,
                start=window.start,
                end=window.end,
            )
        usages.append(
            ChargeUsage(
                charge_id=charge.charge_id,
                version_id=segment.pricing.version_id,
                metric_code=charge.metric_code,
                description=charge.invoice_display_name,
                charge_model=charge.charge_model,
                properties=charge.properties,
                min_amount=charge.min_amount,
                units=fact.units,
                event_count=fact.event_count,
                events_digest=fact.events_digest,
                event_values=tuple(values) if sum(values, 0) == fact.units else (),
            )
        )
    return usages
