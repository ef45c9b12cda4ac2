"""Usage of a charge with filters, pricing groups or proration: one priced result per filter
and per group, from ``plans.selectors.charge_usage_for_period`` (which prices each with the
filter's own properties), as the calculation's ``ChargeUsage``s.

A result's ``group_key`` names its filter and group in words (unique within the charge), and a
grouped result's description names its group, e.g. "Tokens (region: eu)". Event counts are the
result's own; the digest is the charge's over the window (the events the charge's lines priced
together).
"""

from collections.abc import Mapping

from invoices.calculations import ChargeUsage, Window
from invoices.selectors.usage import UsageFact, UsageLookup
from plans.charge_filters import filter_label
from plans.models import Customer, Subscription
from plans.pricing import ChargeResult
from plans.selectors import ChargeUsageResult, EffectiveCharge, charge_usage_for_period


def group_label(group: Mapping[str, str | None]) -> str:
    """A pricing group in words, e.g. "region: eu" (an event without the key: "none")."""
    return ", ".join(f"{key}: {'none' if value is None else value}" for key, value in group.items())


def _group_key(result: ChargeUsageResult) -> str:
    parts = []
    if result.filter_index is not None:
        parts.append(filter_label(result.filter_values) or f"filter {result.filter_index + 1}")
    if result.group:
        parts.append(group_label(result.group))
    return "; ".join(parts)


def split_charge_usages(
    *,
    customer_id: str,
    window: Window,
    version_id: int,
    charge: EffectiveCharge,
    fact: UsageFact,
    lookup: UsageLookup,
) -> list[ChargeUsage]:
    # An unsaved stand-in: the selector reads only the customer's external id.
    subscription = Subscription(customer=Customer(external_id=customer_id))
    usage = charge_usage_for_period(
        subscription=subscription,
        charge=charge,
        start=window.start,
        end=window.end,
        metric=lookup.metric(charge.metric_id),
    )
    filters = [dict(f) for f in charge.filters]
    usages = []
    for result in usage.results:
        properties = (
            charge.properties
            if result.filter_index is None
            else filters[result.filter_index]["properties"]
        )
        description = result.display_name
        if result.group:
            description = f"{description} ({group_label(result.group)})"
        usages.append(
            ChargeUsage(
                charge_id=charge.charge_id,
                version_id=version_id,
                metric_code=charge.metric_code,
                description=description,
                charge_model=charge.charge_model,
                properties=properties,
                min_amount=charge.min_amount,
                units=result.units,
                event_count=result.event_count,
                events_digest=fact.events_digest if result.event_count else "",
                group_key=_group_key(result),
                priced=ChargeResult(
                    amount=result.amount, units=result.units, breakdown=result.breakdown
                ),
            )
        )
    return usages
