"""Usage of a charge with filters, pricing groups or proration: one priced result per filter
and per group, from ``plans.selectors.charge_usage_for_period`` (which prices each with the
filter's own properties), as the calculation's ``ChargeUsage``s.

A result's ``group_key`` names its filter and group in words (unique within the charge), and a
grouped result's description names its group, e.g. "Tokens (region: eu)". Each result keeps its
own event count and the digest of its own events (one more statement per charge,
``invoices.sql.events_digest_split_sql``).
"""

from collections.abc import Mapping

from django.db import connection

from invoices.calculations import ChargeUsage, Window
from invoices.selectors.usage import NO_USAGE_DIGEST, UsageLookup
from invoices.sql import events_digest_split_sql
from plans.charge_filters import filter_label
from plans.models import Customer, Subscription
from plans.pricing import ChargeResult
from plans.selectors import ChargeUsageResult, EffectiveCharge, charge_usage_for_period
from plans.selectors.charge_usage import charge_split, filter_bucket


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
    lookup: UsageLookup,
) -> list[ChargeUsage]:
    metric = lookup.metric(charge.metric_id)
    # An unsaved stand-in: the selector reads only the customer's external id.
    subscription = Subscription(customer=Customer(external_id=customer_id))
    usage = charge_usage_for_period(
        subscription=subscription,
        charge=charge,
        start=window.start,
        end=window.end,
        metric=metric,
    )
    sql, params = events_digest_split_sql(
        metric,
        start=window.start,
        end=window.end,
        customer_id=customer_id,
        split=charge_split(charge),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        digests = {(int(f), tuple(g)): digest for f, g, _, digest in cursor.fetchall()}
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
                charge_description=charge.invoice_display_name,
                charge_model=charge.charge_model,
                properties=properties,
                min_amount=charge.min_amount,
                units=result.units,
                event_count=result.event_count,
                events_digest=digests.get(
                    (filter_bucket(charge, result.filter_index), tuple(result.group.values())),
                    NO_USAGE_DIGEST,
                ),
                group_key=_group_key(result),
                priced=ChargeResult(
                    amount=result.amount, units=result.units, breakdown=result.breakdown
                ),
            )
        )
    return usages
