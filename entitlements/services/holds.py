"""Holds: units set aside for work whose cost is known at its end (reserve, commit at most
the held quantity, release; expired holds stop counting by themselves)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from billing_site.core.audit import jsonable
from billing_site.core.exceptions import ApplicationError, ConflictError, NotFoundError
from entitlements.decision import ZERO
from entitlements.lock_objects import entitlement_lock
from entitlements.models import Hold
from entitlements.selectors import (
    EntitlementDecision,
    decision_for,
)
from entitlements.services.consume import (
    ConsumeOutcome,
    _in_force,
    _metric,
    _quantity,
    _record_usage,
    _refusal,
    units,
)
from plans.models import Customer

MAX_HOLD_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class HoldOutcome:
    status: int
    body: dict[str, Any]
    hold: Hold | None = None


@transaction.atomic
def hold_reserve(
    *,
    customer: Customer,
    feature: str,
    quantity: Decimal,
    ttl_seconds: int,
    at: datetime | None = None,
) -> HoldOutcome:
    """Set ``quantity`` aside until commit, release or ``ttl_seconds``; refused (402) like a
    consume when the balance cannot cover it, whatever the cap."""
    now_given = at is not None
    at = at or timezone.now()
    quantity = _quantity(quantity)
    if not 1 <= ttl_seconds <= MAX_HOLD_SECONDS:
        raise ApplicationError(
            f"ttl_seconds must be between 1 and {MAX_HOLD_SECONDS}.",
            fields={"ttl_seconds": [f"Between 1 and {MAX_HOLD_SECONDS} seconds."]},
        )
    in_force, effective = _in_force(customer, feature, at)
    _metric(effective.metric_id or 0, quantity)
    entitlement_lock(customer_id=customer.pk, feature_id=effective.feature_id)
    at = at if now_given else timezone.now()  # after the lock: see entitlement_consume
    decision = decision_for(
        customer=customer,
        in_force=in_force,
        effective=effective,
        quantity=quantity,
        at=at,
    )
    verdict = decision.verdict
    if verdict is None or not verdict.allowed:
        return HoldOutcome(402, _refusal(decision, in_force) | {"reason": _hold_reason(decision)})
    hold = Hold.objects.create(
        customer=customer,
        feature_id=effective.feature_id,
        quantity=quantity,
        expires_at=at + timedelta(seconds=ttl_seconds),
    )
    return HoldOutcome(201, hold_body(hold, decision.remaining, quantity), hold)


def _hold_reason(decision: EntitlementDecision) -> str:
    if decision.reason in ("insufficient_credits", "limit_reached"):
        return decision.reason
    return "insufficient_credits" if decision.credits > 0 else "limit_reached"


def hold_body(hold: Hold, remaining: Decimal | None, reserved: Decimal) -> dict[str, Any]:
    left = None if remaining is None else max(ZERO, remaining - reserved)
    return {
        "hold_id": str(hold.id),
        "feature": hold.feature.slug,
        "quantity": units(hold.quantity),
        "status": hold.status,
        "expires_at": jsonable(hold.expires_at),
        "committed_quantity": units(hold.committed_quantity),
        "remaining": units(left),
    }


def _hold_locked(customer: Customer, feature: str, hold_id: str) -> Hold:
    hold = (
        Hold.objects.select_related("feature")
        .filter(pk=hold_id, customer=customer, feature__slug=feature)
        .first()
    )
    if hold is None:
        raise NotFoundError(
            f"No hold {hold_id} on {feature!r} for {customer.external_id!r}.",
            fields={"hold_id": ["No such hold."]},
        )
    entitlement_lock(customer_id=customer.pk, feature_id=hold.feature_id)
    return Hold.objects.select_related("feature").select_for_update(of=("self",)).get(pk=hold.pk)


def _ensure_open(hold: Hold, at: datetime) -> None:
    if hold.status == Hold.Status.RELEASED:
        raise ConflictError("The hold was released.", code="hold_released")
    if hold.status == Hold.Status.HELD and hold.expires_at <= at:
        raise ConflictError("The hold expired; reserve again.", code="hold_expired")


@transaction.atomic
def hold_commit(
    *,
    customer: Customer,
    feature: str,
    hold_id: str,
    quantity: Decimal,
    at: datetime | None = None,
    actor: Any = None,
) -> ConsumeOutcome:
    """Record the actual usage (at most the held quantity) and free the rest; idempotent: a
    second commit returns the first answer."""
    hold = _hold_locked(customer, feature, hold_id)
    at = at or timezone.now()  # after the lock: see entitlement_consume
    if hold.status == Hold.Status.COMMITTED and hold.response is not None:
        return ConsumeOutcome(200, hold.response, replayed=True)
    _ensure_open(hold, at)
    quantity = _quantity(quantity)
    if quantity > hold.quantity:
        raise ApplicationError(
            f"Commit at most the {hold.quantity.normalize():f} held.",
            code="exceeds_hold",
            fields={"quantity": [f"At most {hold.quantity.normalize():f}."]},
        )
    in_force, effective = _in_force(customer, feature, at)
    outcome = _record_usage(
        customer=customer,
        in_force=in_force,
        effective=effective,
        quantity=quantity,
        transaction_id=f"hold-{hold.id}",
        properties={},
        at=at,
        hold=hold,
        actor=actor,
    )
    hold.status, hold.committed_quantity, hold.finished_at = Hold.Status.COMMITTED, quantity, at
    hold.response = outcome.body | {"hold_id": str(hold.id)}
    hold.save(update_fields=["status", "committed_quantity", "finished_at", "response"])
    return ConsumeOutcome(200, hold.response)


@transaction.atomic
def hold_release(
    *, customer: Customer, feature: str, hold_id: str, at: datetime | None = None
) -> Hold:
    """Free the whole hold; releasing twice is a no-op, a committed hold cannot be released."""
    hold = _hold_locked(customer, feature, hold_id)
    at = at or timezone.now()  # after the lock: see entitlement_consume
    if hold.status == Hold.Status.COMMITTED:
        raise ConflictError("The hold was committed.", code="hold_committed")
    if hold.status == Hold.Status.HELD:
        hold.status, hold.finished_at = Hold.Status.RELEASED, at
        hold.save(update_fields=["status", "finished_at"])
    return hold


def holds_expire(*, at: datetime | None = None) -> int:
    """Mark holds past their time released (they already stopped counting at ``expires_at``)."""
    at = at or timezone.now()
    return Hold.objects.filter(status=Hold.Status.HELD, expires_at__lte=at).update(
        status=Hold.Status.RELEASED, finished_at=at
    )
