"""The customer's page in the admin ("customer 360"): reads only, each number from the selector
that owns it (metering's usage, the entitlement decision, the credit balance)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from credits.models import CreditGrant, CreditLedgerEntry
from credits.selectors import credit_balance_get, credit_grants_list, credit_ledger_list
from entitlements.models import UsageAlert
from entitlements.selectors import (
    EntitlementDecision,
    billing_period_at,
    entitlements_list,
    live_subscriptions,
)
from metering.models import BillableMetric
from metering.selectors import usage_get
from plans.models import Customer
from plans.selectors import pricing_for_subscription

LEDGER_ROWS = 50
ALERT_ROWS = 20


@dataclass(frozen=True)
class MetricUsage:
    metric: BillableMetric
    quantity: Decimal
    event_count: int
    period_start: datetime
    period_end: datetime


@dataclass(frozen=True)
class CustomerOverview:
    customer: Customer
    usage: tuple[MetricUsage, ...]
    features: tuple[EntitlementDecision, ...]
    credit_total: Decimal
    grants: tuple[tuple[CreditGrant, int | None], ...]  # every grant with its place in the burn
    # order now (None: used up, expired or not yet effective), with ``remaining`` annotated
    ledger: list[CreditLedgerEntry]
    alerts: list[UsageAlert]


def customer_overview(*, customer: Customer, at: datetime | None = None) -> CustomerOverview:
    at = at or timezone.now()
    usage: list[MetricUsage] = []
    seen: set[int] = set()
    for subscription in live_subscriptions(customer=customer):
        pricing = pricing_for_subscription(subscription=subscription, at=at)
        start, end = billing_period_at(subscription, pricing.interval, at)
        metric_ids = [c.metric_id for c in pricing.charges] + [
            f.metric_id for f in pricing.features if f.metric_id is not None
        ]
        wanted = [m for m in dict.fromkeys(metric_ids) if m not in seen]
        seen.update(wanted)
        metrics = BillableMetric.objects.in_bulk(wanted)
        for metric_id in wanted:
            metric = metrics[metric_id]
            result = usage_get(
                metric=metric, customer_id=customer.external_id, start=start, end=end
            )
            usage.append(MetricUsage(metric, result.quantity, result.event_count, start, end))
    balance = credit_balance_get(customer=customer, at=at)
    place = {g.grant_id: n for n, g in enumerate(balance.grants, start=1)}
    return CustomerOverview(
        customer=customer,
        usage=tuple(usage),
        features=tuple(entitlements_list(customer=customer, at=at)),
        credit_total=balance.total,
        grants=tuple((g, place.get(g.pk)) for g in credit_grants_list(customer=customer)),
        ledger=list(credit_ledger_list(customer=customer)[:LEDGER_ROWS]),
        alerts=list(
            UsageAlert.objects.filter(customer=customer).select_related("feature")[:ALERT_ROWS]
        ),
    )
