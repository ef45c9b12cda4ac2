"""Writes of entitlements: consume (check and record atomically), holds, their expiry.

Every path that spends a feature's allowance takes ``entitlement_lock`` (customer, feature) first,
then decides again on what is committed, so concurrent consumes see each other and a hard cap is
never overspent. The usage itself is recorded through metering's ingest (one event store); the
units beyond the plan's limit burn credits in the same transaction.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing_site.core.audit import jsonable
from billing_site.core.exceptions import ApplicationError, ConflictError
from credits.services import credits_consume
from entitlements.alerts import usage_alerts_evaluate
from entitlements.counters import metric_is_additive, usage_counter_add, usage_counter_lock
from entitlements.decision import ZERO, limit_window
from entitlements.models import ConsumeRecord, Hold
from entitlements.selectors import (
    EntitlementDecision,
    InForce,
    decision_after,
    decision_for,
    feature_in_force,
    upgrade_plans,
)
from entitlements.services.consume_statements import (
    consume_in_force,
    consume_state,
    consume_write,
    counter_plus,
)
from metering.models import Aggregation, BillableMetric
from metering.services import MetricSpec, Outcome, usage_events_ingest, usage_events_record
from plans.models import Customer
from plans.selectors import EffectiveFeature

MAX_COUNT_EVENTS = 1000


@dataclass(frozen=True)
class ConsumeOutcome:
    """``status`` is the HTTP status of the answer (200 recorded, 402 refused); ``body`` its
    numbers, stored so that a retry gets the same answer."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def _in_force(customer: Customer, feature: str, at: datetime) -> tuple[InForce, EffectiveFeature]:
    in_force, effective, _, _, _ = feature_in_force(customer, feature, at)
    return _refuse_unless_consumable(customer, feature, in_force, effective)


def _refuse_unless_consumable(
    customer: Customer, feature: str, in_force: InForce | None, effective: EffectiveFeature | None
) -> tuple[InForce, EffectiveFeature]:
    if in_force is None:
        raise ApplicationError(
            f"Customer {customer.external_id!r} has no live subscription.",
            code="no_subscription",
            status=403,
        )
    if effective is None:
        raise ApplicationError(
            f"The feature {feature!r} is not on the plan of {customer.external_id!r}.",
            code="not_in_plan",
            status=403,
            fields={"feature": ["Not on the customer's plan."]},
        )
    if not effective.enabled:
        raise ApplicationError(
            f"The feature {feature!r} is turned off on the plan of {customer.external_id!r}.",
            code="feature_disabled",
            status=403,
            fields={"feature": ["Turned off on the customer's plan."]},
        )
    if effective.kind != "metered" or effective.metric_id is None:
        raise ApplicationError(
            f"{feature!r} is a {effective.kind} feature; only metered features are consumed.",
            code="not_metered",
            fields={"feature": ["Only metered features are consumed; check this one instead."]},
        )
    return in_force, effective


def _metric(metric_id: int, quantity: Decimal) -> BillableMetric:
    return _metric_checked(BillableMetric.objects.get(pk=metric_id), quantity)


def _metric_checked(metric: BillableMetric, quantity: Decimal) -> BillableMetric:
    if metric.aggregation == Aggregation.COUNT:
        if quantity != quantity.to_integral_value() or quantity > MAX_COUNT_EVENTS:
            raise ApplicationError(
                f"{metric.code} counts events: the quantity is a whole number up to "
                f"{MAX_COUNT_EVENTS}.",
                fields={"quantity": [f"A whole number from 1 to {MAX_COUNT_EVENTS}."]},
            )
    elif metric.aggregation != Aggregation.SUM:
        raise ApplicationError(
            f"{metric.code} aggregates by {metric.aggregation}; only count and sum metrics can "
            "be consumed by quantity.",
            code="not_consumable",
            fields={"feature": ["Its metric is not a count or a sum."]},
        )
    return metric


def _events(
    *,
    metric: BillableMetric,
    external_id: str,
    transaction_id: str,
    quantity: Decimal,
    properties: dict[str, Any],
    at: datetime,
) -> list[dict[str, Any]]:
    base = {"customer_id": external_id, "code": metric.code, "timestamp": at.isoformat()}
    if metric.aggregation == Aggregation.COUNT:
        ids = [transaction_id] + [f"{transaction_id}#{n}" for n in range(2, int(quantity) + 1)]
        return [{**base, "transaction_id": tid, "properties": properties} for tid in ids]
    props = {**properties, metric.field_name: format(quantity, "f")}
    return [{**base, "transaction_id": transaction_id, "properties": props}]


def units(value: Decimal | None) -> str | None:
    """A quantity as the API writes it: exact, without trailing zeros (10.0000 -> "10")."""
    return None if value is None else format(value.normalize(), "f")


def _numbers(decision: EntitlementDecision) -> dict[str, Any]:
    return {
        "feature": decision.feature,
        "limit": units(decision.limit),
        "used": units(decision.used),
        "credits": units(decision.credits),
        "held": units(decision.held),
        "remaining": units(decision.remaining),
        "cap": decision.cap,
        "period_start": jsonable(decision.period_start),
        "period_end": jsonable(decision.period_end),
    }


def _refusal(decision: EntitlementDecision, in_force: InForce) -> dict[str, Any]:
    needed = (decision.used or ZERO) + decision.held + decision.quantity
    upgrade = upgrade_plans(
        feature_id=decision.feature_id or 0, needed=needed, exclude_version_id=in_force.version_id
    )
    what = "credits" if decision.reason == "insufficient_credits" else "allowance"
    return {
        "reason": decision.reason,
        "message": f"Not enough {what} for {decision.quantity.normalize():f} more "
        f"{decision.feature}: {(decision.remaining or ZERO).normalize():f} available.",
        **_numbers(decision),
        "available": units(decision.remaining or ZERO),
        "requested": units(decision.quantity),
        "upgrade": upgrade,
    }


def _record_usage(
    *,
    customer: Customer,
    in_force: InForce,
    effective: EffectiveFeature,
    quantity: Decimal,
    transaction_id: str,
    properties: dict[str, Any],
    at: datetime,
    hold: Hold | None,
    actor: Any,
    metric: BillableMetric | None = None,
    decision: EntitlementDecision | None = None,
) -> ConsumeOutcome:
    """Under the entitlement lock: decide (unless the caller did, under the lock), then record
    the usage, burn credits, count it. A consume of an additive metric takes the short road
    (``_record_additive``); holds and other metrics recount through metering."""
    metric = metric or _metric(effective.metric_id or 0, quantity)
    decision = decision or decision_for(
        customer=customer,
        in_force=in_force,
        effective=effective,
        quantity=quantity,
        at=at,
        exclude_hold=hold,
    )
    verdict, counter = decision.verdict, decision.counter
    if verdict is None or counter is None:  # only a feature without a metric has neither
        raise ApplicationError(f"{effective.slug} counts no metric.", code="not_metered")
    if not verdict.allowed and hold is None:
        body = _refusal(decision, in_force)
        ConsumeRecord.objects.create(
            customer=customer,
            feature_id=effective.feature_id,
            transaction_id=transaction_id,
            quantity=quantity,
            allowed=False,
            status_code=402,
            response=body,
        )
        return ConsumeOutcome(402, body)
    additive = hold is None and metric_is_additive(metric)
    events = _events(
        metric=metric,
        external_id=customer.external_id,
        transaction_id=transaction_id,
        quantity=quantity,
        properties=properties,
        at=at,
    )
    if additive:
        # One insert, no savepoint, no listener: the write below keeps the counters current.
        spec = MetricSpec.of(metric.code, metric.aggregation, metric.field_name)
        result = usage_events_record(events=events, metrics={metric.code: spec}, received_at=at)
    else:
        counter = usage_counter_lock(
            counter=counter, metric=metric, external_id=customer.external_id
        )
        result = usage_events_ingest(events=events, received_at=at)
    if any(o.status != Outcome.ACCEPTED for o in result.outcomes):
        bad = next(o for o in result.outcomes if o.status != Outcome.ACCEPTED)
        raise ConflictError(
            f"An event with transaction id {transaction_id!r} was already stored for "
            f"{customer.external_id!r} ({bad.status}{': ' + bad.reason if bad.reason else ''}); "
            "use a new transaction id.",
            code="transaction_conflict",
            fields={"transaction_id": ["Already used by another event of this customer."]},
        )
    # Units beyond what the plan includes come from credits; a hold's commit may exceed what is
    # left (it was promised), the rest is overage like a soft cap's.
    from_credits = verdict.from_credits if verdict.allowed else ZERO
    if hold is not None and not verdict.allowed:
        from_credits = min(quantity, verdict.credits_available)
    credited = ZERO
    if from_credits > 0:
        burns = credits_consume(
            customer=customer.pk,
            feature=effective.feature_id,
            quantity=from_credits,
            reference=f"consume:{customer.pk}:{effective.feature_id}:{transaction_id}",
            at=at,
            period_start=decision.period_start,
            period_end=decision.period_end,
            actor=actor,
        )
        credited = sum((b.amount for b in burns), ZERO)
    if additive:
        counter = counter_plus(counter, quantity=quantity, credited=credited)
    else:
        counter = usage_counter_add(
            counter=counter,
            metric=metric,
            external_id=customer.external_id,
            quantity=quantity,
            credited=credited,
        )
    after = decision_after(decision, counter=counter, credits_burned=credited)
    alerts = usage_alerts_evaluate(decision=after, thresholds=effective.alert_thresholds)
    body = {
        "reason": "ok" if quantity - verdict.from_included - credited <= 0 else "overage",
        **_numbers(after),
        "transaction_id": transaction_id,
        "quantity": units(quantity),
        "credits_applied": units(credited),
        "overage": units(max(ZERO, quantity - verdict.from_included - credited)),
        "alerts": [alert.threshold for alert in alerts],
    }
    if additive:
        consume_write(
            customer_id=customer.pk,
            feature_id=effective.feature_id,
            metric_id=metric.pk,
            counter_id=counter.pk,
            transaction_id=transaction_id,
            quantity=quantity,
            credited=credited,
            response=body,
            at=at,
        )
        return ConsumeOutcome(200, body)
    ConsumeRecord.objects.create(
        customer=customer,
        feature_id=effective.feature_id,
        transaction_id=transaction_id,
        quantity=quantity,
        allowed=True,
        status_code=200,
        response=body,
    )
    return ConsumeOutcome(200, body)


def _quantity(value: Decimal | int) -> Decimal:
    value = Decimal(value)
    if not value.is_finite() or value <= 0:
        raise ApplicationError(
            "The quantity must be greater than zero.",
            fields={"quantity": ["Must be greater than zero."]},
        )
    return value


@transaction.atomic
def entitlement_consume(
    *,
    customer: Customer | None = None,
    external_id: str | None = None,
    feature: str,
    quantity: Decimal,
    transaction_id: str,
    properties: dict[str, Any] | None = None,
    at: datetime | None = None,
    actor: Any = None,
) -> ConsumeOutcome:
    """Check and record ``quantity`` of ``feature`` for ``customer`` (given, or by
    ``external_id``: NotFoundError when unknown) atomically, idempotent on ``transaction_id``: a
    retry returns the first answer (recorded or refused).

    Three statements of its own and metering's event insert (``entitlements.sql``): the feature
    in force with its metric, taking the entitlement lock; under the lock, the answer to a retry
    and the window's state; after the insert, the counters and the answer."""
    now_given = at is not None
    at = at or timezone.now()
    quantity = _quantity(quantity)
    in_force, effective, customer, metric = consume_in_force(
        customer=customer, external_id=external_id, feature=feature, at=at
    )
    in_force, effective = _refuse_unless_consumable(customer, feature, in_force, effective)
    # The ledger is read as of ``at``: take the time after the lock, so that what the previous
    # holder of the lock burned (at its own, earlier time) is seen.
    at = at if now_given else timezone.now()
    window_start, window_end = limit_window(
        reset_period=effective.reset_period,
        at=at,
        period_start=in_force.period_start,
        period_end=in_force.period_end,
        started_at=in_force.started_at,
    )
    state, replay = consume_state(
        customer_id=customer.pk,
        feature_id=effective.feature_id,
        metric_id=effective.metric_id or 0,
        window_start=window_start,
        window_end=window_end,
        transaction_id=transaction_id,
        at=at,
    )
    if replay is not None:
        return ConsumeOutcome(*replay, replayed=True)
    if metric is None:  # a metered feature's metric is a foreign key: never
        raise RuntimeError(f"The metric of {feature!r} was not read.")
    metric = _metric_checked(metric, quantity)
    decision = decision_for(
        customer=customer,
        in_force=in_force,
        effective=effective,
        quantity=quantity,
        at=at,
        prefetched=state,
    )
    return _record_usage(
        customer=customer,
        in_force=in_force,
        effective=effective,
        quantity=quantity,
        transaction_id=transaction_id,
        properties=properties or {},
        at=at,
        hold=None,
        actor=actor,
        metric=metric,
        decision=decision,
    )
