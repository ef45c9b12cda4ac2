"""What a charge bills for one customer over one period: priced results per filter and group.

``charge_usage_for_period`` is the interface the invoice calculation reads: for a subscription's
charge (an ``EffectiveCharge``, overrides applied) over ``[start, end)`` it returns one
``ChargeUsageResult`` per filter and per pricing group, each with its units, event count, precise
amount and breakdown (and, for prorated charges, each unit's day count). The rules of filters,
groups and proration are in ``plans.charge_filters``, ``plans.pricing`` and
``metering.aggregation.recurring_sql``.

Queries: a charge with no filters, groups or proration reads ``metering.usage_get`` (daily
rollups); otherwise all filters and groups of the charge are aggregated in one query on the
customer's events (a percentage charge adds one query for its per-event values).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from metering.aggregation import Split
from metering.models import BillableMetric
from metering.selectors import (
    SplitUsage,
    UnitProration,
    usage_event_values,
    usage_event_values_split,
    usage_get,
    usage_prorated_get,
    usage_split_get,
)
from plans.charge_filters import filter_label, filters_by_specificity, has_default
from plans.models import Subscription
from plans.pricing import BreakdownRow, price
from plans.pricing_groups import grouping_keys
from plans.selectors.pricing import EffectiveCharge

DEFAULT = None  # the filter index of the charge's default properties


@dataclass(frozen=True)
class ChargeUsageResult:
    """One priced part of a charge: a filter (``filter_index`` into the charge's filters, None
    for the default properties) and a pricing group (``{property: value or None}``, empty when
    the charge is not grouped)."""

    filter_index: int | None
    filter_values: Mapping[str, Any]
    display_name: str
    group: Mapping[str, str | None]
    units: Decimal
    event_count: int
    amount: Decimal  # precise; the invoice line rounds once
    breakdown: tuple[BreakdownRow, ...]
    prorations: tuple[UnitProration, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "filter_index": self.filter_index,
            "filter": dict(self.filter_values),
            "display_name": self.display_name,
            "group": dict(self.group),
            "units": format(self.units, "f"),
            "event_count": self.event_count,
            "amount": format(self.amount, "f"),
            "breakdown": [row.as_dict() for row in self.breakdown],
            "prorations": [
                {
                    "unit": p.unit,
                    "quantity": format(p.quantity, "f"),
                    "days": p.days,
                    "period_days": p.period_days,
                }
                for p in self.prorations
            ],
        }


@dataclass(frozen=True)
class ChargeUsage:
    charge_id: int
    metric_code: str
    charge_model: str
    prorated: bool
    start: datetime
    end: datetime
    results: tuple[ChargeUsageResult, ...]

    @property
    def amount(self) -> Decimal:
        return sum((r.amount for r in self.results), Decimal(0))

    @property
    def units(self) -> Decimal:
        return sum((r.units for r in self.results), Decimal(0))

    @property
    def event_count(self) -> int:
        return sum(r.event_count for r in self.results)


def charge_split(charge: EffectiveCharge) -> Split:
    """How the charge's events divide: bucket ``i`` is the ``i``-th filter by specificity (see
    ``filter_bucket``), -1 the default properties; groups by each one's grouping keys."""
    filters = [dict(f) for f in charge.filters]
    order = filters_by_specificity(filters)
    return Split(
        buckets=tuple(filters[i]["values"] for i in order),
        group_keys=grouping_keys(charge.properties),
        bucket_group_keys=tuple(grouping_keys(filters[i]["properties"]) for i in order),
    )


def filter_bucket(charge: EffectiveCharge, filter_index: int | None) -> int:
    """The split bucket of a filter (None: the default properties, bucket -1)."""
    if filter_index is None:
        return -1
    return filters_by_specificity([dict(f) for f in charge.filters]).index(filter_index)


def charge_usage_for_period(
    *,
    subscription: Subscription,
    charge: EffectiveCharge,
    start: datetime,
    end: datetime,
    metric: BillableMetric | None = None,
) -> ChargeUsage:
    """The charge's priced results over ``[start, end)`` for the subscription's customer.

    Results come in this order: the default properties' (when the charge has them), then each
    filter's in the charge's order; within one, groups by value (events without a grouping key
    in a group of their own, last). Every filter, and the default, has a result even without
    usage (units 0, so a graduated first-tier flat fee still applies) unless it is grouped, when
    only groups with usage appear. Raises ``PricingError`` for invalid properties.
    """
    metric = metric or BillableMetric.objects.get(pk=charge.metric_id)
    customer_id = subscription.customer.external_id
    filters = [dict(f) for f in charge.filters]
    order = filters_by_specificity(filters)
    default_keys = grouping_keys(charge.properties)
    split = charge_split(charge)
    period = {"metric": metric, "customer_id": customer_id, "start": start, "end": end}
    usages: list[SplitUsage]
    if charge.prorated:
        usages = usage_prorated_get(**period, split=split)
    elif filters or default_keys:
        usages = usage_split_get(**period, split=split)
    else:
        total = usage_get(**period)
        usages = [SplitUsage(-1, (), total.quantity, total.event_count)]
    event_values: dict[tuple[int, tuple[str | None, ...]], list[Decimal]] = {}
    if charge.charge_model == "percentage":
        if filters or default_keys:
            event_values = usage_event_values_split(**period, split=split)
        else:
            event_values = {(-1, ()): usage_event_values(**period)}

    by_bucket: dict[int, list[SplitUsage]] = {}
    for usage in usages:
        by_bucket.setdefault(usage.bucket, []).append(usage)
    parts: list[tuple[int | None, int, Mapping[str, Any]]] = []
    if not filters or has_default(charge.properties):
        parts.append((DEFAULT, -1, charge.properties))
    bucket_of = {index: bucket for bucket, index in enumerate(order)}
    parts += [
        (index, bucket_of[index], filters[index]["properties"]) for index in range(len(filters))
    ]

    results = []
    for filter_index, bucket, properties in parts:
        keys = split.keys_of(bucket)
        found = by_bucket.get(bucket) or ([] if keys else [SplitUsage(bucket, (), Decimal(0), 0)])
        values = {} if filter_index is None else filters[filter_index]["values"]
        name = _display_name(charge, filter_index, filters)
        for usage in found:
            units = max(usage.quantity, Decimal(0))
            per_event = event_values.get((usage.bucket, usage.group), ())
            priced = price(charge.charge_model, properties, units, per_event)  # type: ignore[arg-type]
            results.append(
                ChargeUsageResult(
                    filter_index=filter_index,
                    filter_values=values,
                    display_name=name,
                    group=dict(zip(keys, usage.group, strict=True)),
                    units=priced.units,
                    event_count=usage.event_count,
                    amount=priced.amount,
                    breakdown=priced.breakdown,
                    prorations=usage.prorations,
                )
            )
    return ChargeUsage(
        charge_id=charge.charge_id,
        metric_code=charge.metric_code,
        charge_model=charge.charge_model,
        prorated=charge.prorated,
        start=start,
        end=end,
        results=tuple(results),
    )


def _display_name(
    charge: EffectiveCharge, filter_index: int | None, filters: list[dict[str, Any]]
) -> str:
    if filter_index is None:
        return charge.invoice_display_name
    own = filters[filter_index].get("invoice_display_name")
    return own or f"{charge.invoice_display_name} ({filter_label(filters[filter_index]['values'])})"
