"""Usage facts for billing: quantity, event count and event digest per (metric, customer,
window), read for a whole batch in a few set-based statements.

``UsageLookup.prefetch`` groups the requests by (metric, window) and answers each group with two
statements whatever the number of customers: metering's aggregation (daily rollups where
current) and the digest of the events (``invoices.sql``). ``get`` answers from what was
prefetched and reads a single fact on a miss, so a caller is never wrong, only slower.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from invoices.sql import events_digest_sql
from metering.models import BillableMetric
from metering.selectors import usage_by_customer_for_period, usage_event_values


@dataclass(frozen=True)
class UsageRequest:
    metric_id: int
    customer_id: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class UsageFact:
    units: Decimal
    event_count: int
    events_digest: str


NO_USAGE_DIGEST = ""


class UsageLookup:
    """Usage facts, and what a batch learned about its subscriptions in a few queries:

    - ``plain``: subscriptions with no overrides, no scheduled change and no plan change in
      their history, whose pricing is their version's alone (so it is computed once per
      version, ``pricing_by_version``);
    - ``late_candidates``: subscriptions with recent finalized period invoices (the only ones
      that can have late usage to adjust);
    - ``credit_customers``: customers (by id) with credit grants (the only ones whose invoices
      can apply credits);
    - ``coupon_customers``: customers (by id) with active coupons, and ``tax_rates``: the tax
      rates of the batch's customers and versions (``invoices.selectors.adjustments``).

    ``None`` means "not known": the caller reads it per subscription.
    """

    def __init__(self) -> None:
        self._facts: dict[UsageRequest, UsageFact] = {}
        self._metrics: dict[int, BillableMetric] = {}
        self.plain: set[int] | None = None
        self.late_candidates: set[int] | None = None
        self.credit_customers: set[int] | None = None
        self.coupon_customers: set[int] | None = None
        self.tax_rates: Any = None  # a TaxRatesKnown, when a batch read them at once
        self.pricing_by_version: dict[int, Any] = {}

    def metric(self, metric_id: int) -> BillableMetric:
        if metric_id not in self._metrics:
            self._metrics[metric_id] = BillableMetric.objects.get(pk=metric_id)
        return self._metrics[metric_id]

    def prefetch(self, requests: Iterable[UsageRequest]) -> None:
        groups: dict[tuple[int, datetime, datetime], list[str]] = defaultdict(list)
        for request in requests:
            if request not in self._facts:
                groups[(request.metric_id, request.start, request.end)].append(request.customer_id)
        missing = {metric_id for metric_id, _, _ in groups} - set(self._metrics)
        if missing:
            self._metrics |= {m.pk: m for m in BillableMetric.objects.filter(pk__in=missing)}
        for (metric_id, start, end), customer_ids in groups.items():
            self._read(self._metrics[metric_id], start, end, sorted(set(customer_ids)))

    def _read(
        self, metric: BillableMetric, start: datetime, end: datetime, customer_ids: list[str]
    ) -> None:
        usage = usage_by_customer_for_period(
            metric=metric, start=start, end=end, customer_ids=customer_ids
        )
        sql, params = events_digest_sql(metric, start=start, end=end, customer_ids=customer_ids)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            digests = {row[0]: (int(row[1]), row[2]) for row in cursor.fetchall()}
        for customer_id in customer_ids:
            event_count, digest = digests.get(customer_id, (0, NO_USAGE_DIGEST))
            self._facts[UsageRequest(metric.pk, customer_id, start, end)] = UsageFact(
                units=usage[customer_id].quantity, event_count=event_count, events_digest=digest
            )

    def get(self, *, metric_id: int, customer_id: str, start: datetime, end: datetime) -> UsageFact:
        request = UsageRequest(metric_id, customer_id, start, end)
        if request not in self._facts:
            self._read(self.metric(metric_id), start, end, [customer_id])
        return self._facts[request]

    def event_values(
        self, *, metric_id: int, customer_id: str, start: datetime, end: datetime
    ) -> list[Decimal]:
        """Per-event values in time order, for charges priced per transaction (percentage)."""
        return usage_event_values(
            metric=self.metric(metric_id), customer_id=customer_id, start=start, end=end
        )
