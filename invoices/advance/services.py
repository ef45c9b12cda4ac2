"""Creating pay-in-advance fees from newly stored events, exactly once.

``advance_fees_create`` reads, per metric charged in advance, the events stored since the
metric's cursor, up to the id below which no insert can still be in flight (the watermark the
rollups use, so an event committed late is read by a later run, never skipped). For each event
it finds the subscription and period it belongs to and the charge in force at its timestamp
(``billing_segments``: plan changes and overrides count); when that charge is paid in advance,
the event moves the period's running state and, if it raises the high-water mark, makes a fee
priced by ``invoices.advance.fees``. Fees, states and the cursor are written in one
transaction per chunk under the cursor's row lock, so a rerun or a second worker reads nothing
twice; the unique key on (charge, customer, transaction id) stands behind it.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from billing_site.core.money import quantize
from invoices.advance.fees import UNIQUE_COUNT, AdvanceEvent, RunningState, advance_fee
from invoices.advance.models import AdvanceFee, AdvanceFeeCursor, AdvanceFeeState
from invoices.advance.selectors import (
    advance_metrics,
    advance_version_ids,
    event_period,
    subscriptions_by_customer,
)
from invoices.advance.sql import advance_events_sql
from invoices.selectors.billing import Segment, billing_segments, plain_subscription_ids
from invoices.selectors.usage import UsageLookup
from metering.models import BillableMetric
from metering.rollups import usage_rollups_safe_watermark
from plans.models import Subscription
from plans.pricing import ChargeResult, PricingError

logger = logging.getLogger(__name__)

# Event ids read per transaction: bounds a run's transaction after a long pause (or the first
# run of a metric, which reads its events from the start).
CHUNK_IDS = 200_000
_PRECISE = Decimal("1e-20")


@dataclass
class _Period:
    subscription: Subscription
    start: datetime
    end: datetime
    segments: list[Segment]
    state: AdvanceFeeState
    # The price of the billed mark per (charge, override): each event prices only its new mark.
    prices: dict[tuple[int, int | None], ChargeResult] = field(default_factory=dict)


def advance_fees_create(*, now: datetime | None = None, upto: int | None = None) -> int:
    """Create the fees of every event stored up to ``upto`` (default: the safe watermark; call
    it outside a transaction then) for the metrics charged in advance. Returns how many."""
    now = now or timezone.now()
    metrics = advance_metrics()
    if not metrics:
        return 0  # nothing is charged in advance: no need to take the watermark's table lock
    upto = usage_rollups_safe_watermark() if upto is None else upto
    created = 0
    for metric in metrics:
        more = True
        while more:
            made, more = advance_fees_create_for_metric(metric=metric, upto=upto, now=now)
            created += made
    return created


@transaction.atomic
def advance_fees_create_for_metric(
    *, metric: BillableMetric, upto: int, now: datetime, chunk: int = CHUNK_IDS
) -> tuple[int, bool]:
    """The metric's events in the next ``chunk`` ids after its cursor (up to ``upto``):
    (fees created, whether more remain). A metric whose cursor another run holds is skipped."""
    AdvanceFeeCursor.objects.bulk_create([AdvanceFeeCursor(metric=metric)], ignore_conflicts=True)
    cursor = AdvanceFeeCursor.objects.select_for_update(skip_locked=True).filter(metric=metric)
    held = cursor.first()
    if held is None or held.last_event_id >= upto:
        return 0, False
    bound = min(upto, held.last_event_id + chunk)
    sql, params = advance_events_sql(metric, after=held.last_event_id, upto=bound)
    with connection.cursor() as db:
        db.execute(sql, params)
        rows = db.fetchall()
    fees = _fees(metric, rows, now)
    AdvanceFee.objects.bulk_create(fees, ignore_conflicts=True)
    held.last_event_id = bound
    held.save(update_fields=["last_event_id", "updated_at"])
    return len(fees), bound < upto


def _period_of(
    metric: BillableMetric,
    periods: dict[tuple[int, datetime], _Period],
    found: tuple[Subscription, datetime, datetime],
    lookup: UsageLookup,
) -> _Period:
    subscription, start, end = found
    key = (subscription.pk, start)
    if key not in periods:
        state = AdvanceFeeState.objects.filter(
            subscription=subscription, metric=metric, period_start=start
        ).first() or AdvanceFeeState(
            subscription=subscription, metric=metric, period_start=start, period_end=end
        )
        segments = billing_segments(
            subscription=subscription, period_start=start, period_end=end, lookup=lookup
        )
        periods[key] = _Period(subscription, start, end, segments, state)
    return periods[key]


def _fees(metric: BillableMetric, rows: list[tuple[Any, ...]], now: datetime) -> list[AdvanceFee]:
    """The fees of the rows, in id order; the periods' states are saved as they end up."""
    if not rows:
        return []
    by_customer = subscriptions_by_customer(row[1] for row in rows)
    # A subscription that never changed plan or had an override is priced by its version
    # alone: when that version does not charge the metric in advance, its events are skipped
    # without reading its pricing.
    lookup = UsageLookup()
    lookup.plain = plain_subscription_ids(
        subscription.pk for found in by_customer.values() for subscription in found
    )
    in_advance = advance_version_ids(metric=metric)
    periods: dict[tuple[int, datetime], _Period] = {}
    touched: set[tuple[int, datetime]] = set()
    fees = []
    for event_id, customer_id, transaction_id, subscription_id, at, value, op in rows:
        found = event_period(
            subscriptions=by_customer.get(customer_id, []),
            subscription_external_id=subscription_id,
            at=at,
        )
        if found is None:
            continue
        if found[0].pk in lookup.plain and found[0].version_id not in in_advance:
            continue
        period = _period_of(metric, periods, found, lookup)
        segment = next((s for s in period.segments if s.window.start <= at < s.window.end), None)
        if segment is None:
            continue
        charge = next((c for c in segment.pricing.charges if c.metric_id == metric.pk), None)
        if charge is None or not charge.pay_in_advance:
            continue
        state = period.state
        running = RunningState(
            total=state.total, high_water=state.high_water, values=frozenset(state.values)
        )
        unique = metric.aggregation == UNIQUE_COUNT
        event = AdvanceEvent(value=value if unique else Decimal(value), removes=op == "remove")
        try:
            running, result = advance_fee(
                charge_model=charge.charge_model,  # type: ignore[arg-type]
                properties=charge.properties,
                aggregation=metric.aggregation,
                state=running,
                event=event,
                rounding=metric.rounding,
                rounding_precision=metric.rounding_precision,
                price_before=period.prices.get((charge.charge_id, charge.override_id)),
            )
        except PricingError as error:  # a charge saved before its rules: logged, not billed
            logger.warning("advance fee not priced: charge %s: %s", charge.charge_id, error)
            continue
        state.total, state.high_water = running.total, running.high_water
        state.values = sorted(running.values)
        touched.add((period.subscription.pk, period.start))
        if result is None:
            continue
        period.prices[(charge.charge_id, charge.override_id)] = result.price_after
        currency = segment.pricing.currency
        fees.append(
            AdvanceFee(
                customer_id=period.subscription.customer_id,
                subscription=period.subscription,
                charge_id=charge.charge_id,
                metric_code=metric.code,
                description=charge.invoice_display_name,
                event_id=event_id,
                transaction_id=transaction_id,
                event_timestamp=at,
                period_start=period.start,
                period_end=period.end,
                units=result.units,
                high_water_before=result.high_water_before,
                currency=currency,
                amount_precise=result.amount.quantize(_PRECISE),
                amount=quantize(result.amount, currency),
                breakdown={
                    "charge_model": charge.charge_model,
                    "event": transaction_id,
                    "high_water": [
                        str(result.high_water_before),
                        str(result.high_water_before + result.units),
                    ],
                    "amount": str(result.amount),
                    "units": str(result.units),
                    "breakdown": [row.as_dict() for row in result.breakdown],
                },
                created_at=now,
            )
        )
    for key in touched:
        periods[key].state.save()
    return fees
