"""Subscriptions: create, cancel, change plan, advance a period.

Periods are stored on the subscription (``current_period_start/end``) and only ever moved
forward by ``subscription_period_advance``, computed from ``billing_anchor`` by
``billing_site.core.periods``. A plan change that is not immediate is stored as
``scheduled_version`` + ``scheduled_change_at`` and applied when its time comes.
"""

import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing_site.core.audit import audit_log_write, jsonable
from billing_site.core.exceptions import ApplicationError, ConflictError
from billing_site.core.periods import first_period, period_containing
from plans.models import BillingTime, Customer, Plan, PlanVersion, Subscription
from plans.selectors import plan_version_for_sale

ChangeTiming = Literal["immediately", "period_end", "effective"]
CHANGE_TIMINGS: tuple[str, ...] = ("immediately", "period_end", "effective")
LIVE_STATUSES = (Subscription.Status.TRIALING, Subscription.Status.ACTIVE)


# Higher apps act when a subscription starts or enters a new period (credits grant the plan's
# allowance and its refills) by registering a listener in their AppConfig.ready; the catalog
# cannot import them. Listeners run inside the service's transaction.
_period_listeners: list[Callable[[Subscription, datetime], None]] = []


def subscription_period_listener_register(
    listener: Callable[[Subscription, datetime], None],
) -> None:
    if listener not in _period_listeners:
        _period_listeners.append(listener)


def _period_opened(subscription: Subscription, at: datetime) -> None:
    for listener in _period_listeners:
        listener(subscription, at)


def _aware(value: datetime, field: str) -> datetime:
    if timezone.is_naive(value):
        raise ValidationError({field: ["Give a time zone offset, e.g. 2025-01-31T00:00:00Z."]})
    return value


def _locked(subscription: Subscription) -> Subscription:
    return (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("version__plan", "customer", "scheduled_version__plan")
        .get(pk=subscription.pk)
    )


def _ensure_live(subscription: Subscription) -> None:
    if subscription.status not in LIVE_STATUSES:
        raise ConflictError(
            f"Subscription {subscription.external_id!r} is {subscription.status}.",
            code="subscription_not_live",
        )


def _ensure_currency(subscription_currency: str, version: PlanVersion, field: str) -> None:
    if version.currency != subscription_currency:
        raise ApplicationError(
            f"{version.plan.code} v{version.number} is priced in {version.currency}, but the "
            f"customer is billed in {subscription_currency}.",
            code="currency_mismatch",
            fields={field: [f"Choose a plan priced in {subscription_currency}."]},
        )


def _status_at(subscription: Subscription, now: datetime) -> str:
    if subscription.trial_ends_at is not None and now < subscription.trial_ends_at:
        return Subscription.Status.TRIALING
    return Subscription.Status.ACTIVE


@transaction.atomic
def subscription_create(
    *,
    customer: Customer,
    plan: Plan,
    version_number: int | None = None,
    external_id: str | None = None,
    started_at: datetime | None = None,
    billing_time: str = "anniversary",
    trial_days: int | None = None,
    actor: Any = None,
) -> tuple[Subscription, bool]:
    """Subscribe ``customer`` to ``plan`` (its latest published version unless a number is named).

    Idempotent on ``external_id``: the same id for the same customer and plan returns the
    existing subscription with ``created=False``; for another customer or plan it is a conflict.
    The trial defaults to the version's ``trial_days``; the first period starts at ``started_at``
    (now by default).
    """
    if external_id:
        existing = Subscription.objects.select_related("version").filter(external_id=external_id)
        found = existing.first()
        if found is not None:
            if found.customer_id == customer.pk and found.version.plan_id == plan.pk:
                return found, False
            raise ConflictError(
                f"Subscription {external_id!r} already exists for another customer or plan.",
                code="subscription_exists",
                fields={"external_id": ["This external id is taken."]},
            )
    if billing_time not in BillingTime.values:
        raise ValidationError(
            {"billing_time": [f"Choose one of: {', '.join(BillingTime.values)}."]}
        )
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.archived_at is not None:
        raise ConflictError(
            f"Customer {customer.external_id!r} is archived.",
            code="customer_archived",
            fields={"customer": ["The customer is archived."]},
        )
    version = plan_version_for_sale(plan=plan, number=version_number)
    if customer.currency:
        _ensure_currency(customer.currency, version, "plan")
    else:
        customer.currency = version.currency
        customer.save(update_fields=["currency", "updated_at"])
    now = timezone.now()
    started_at = _aware(started_at, "started_at") if started_at else now
    trial = version.trial_days if trial_days is None else trial_days
    if trial < 0:
        raise ValidationError({"trial_days": ["Trial days must not be negative."]})
    start, end = first_period(started_at, version.interval, billing_time)  # type: ignore[arg-type]
    subscription = Subscription(
        external_id=external_id or f"sub_{secrets.token_hex(10)}",
        customer=customer,
        version=version,
        billing_time=billing_time,
        started_at=started_at,
        trial_ends_at=started_at + timedelta(days=trial) if trial else None,
        billing_anchor=started_at,
        current_period_start=start,
        current_period_end=end,
    )
    subscription.status = _status_at(subscription, now)
    subscription.full_clean()
    subscription.save()
    audit_log_write(
        actor=actor,
        action="subscription.created",
        obj=subscription,
        changes={
            "customer": customer.external_id,
            "plan": plan.code,
            "version": version.number,
            "billing_time": billing_time,
            "started_at": jsonable(started_at),
            "trial_ends_at": jsonable(subscription.trial_ends_at),
            "period": [jsonable(start), jsonable(end)],
        },
    )
    _period_opened(subscription, max(now, started_at))
    return subscription, True


@transaction.atomic
def subscription_cancel(
    *,
    subscription: Subscription,
    at_period_end: bool = True,
    actor: Any = None,
    reason: str = "",
) -> Subscription:
    """Cancel at the end of the current period (it keeps running and is billed until then), or
    immediately (status ``canceled``, ``ended_at`` now). Any scheduled plan change is dropped."""
    subscription = _locked(subscription)
    _ensure_live(subscription)
    now = timezone.now()
    old_schedule = subscription.scheduled_version_id
    subscription.scheduled_version, subscription.scheduled_change_at = None, None
    if at_period_end:
        if subscription.cancel_at_period_end:
            return subscription
        subscription.cancel_at_period_end = True
        subscription.canceled_at = now
        action = "subscription.cancel_scheduled"
    else:
        subscription.status = Subscription.Status.CANCELED
        subscription.cancel_at_period_end = False
        subscription.canceled_at = now
        subscription.ended_at = max(now, subscription.started_at)
        action = "subscription.canceled"
    subscription.full_clean()
    subscription.save()
    audit_log_write(
        actor=actor,
        action=action,
        obj=subscription,
        changes={
            "at_period_end": at_period_end,
            "ends_at": jsonable(subscription.ended_at or subscription.current_period_end),
            "dropped_scheduled_version": old_schedule,
        },
        reason=reason,
    )
    return subscription


@transaction.atomic
def subscription_cancellation_revoke(
    *, subscription: Subscription, actor: Any = None, reason: str = ""
) -> Subscription:
    """Undo a cancellation at period end before the period ends."""
    subscription = _locked(subscription)
    _ensure_live(subscription)
    if not subscription.cancel_at_period_end:
        return subscription
    subscription.cancel_at_period_end = False
    subscription.canceled_at = None
    subscription.save(update_fields=["cancel_at_period_end", "canceled_at", "updated_at"])
    audit_log_write(
        actor=actor, action="subscription.cancellation_revoked", obj=subscription, reason=reason
    )
    return subscription


@transaction.atomic
def subscription_change_plan(
    *,
    subscription: Subscription,
    plan: Plan,
    version_number: int | None = None,
    timing: ChangeTiming | None = None,
    effective_at: datetime | None = None,
    actor: Any = None,
    reason: str = "",
) -> Subscription:
    """Move a subscription to another published version.

    ``immediately`` switches the version now and keeps the current period (the next period
    follows the new interval); ``period_end`` schedules the switch at the current period's end;
    ``effective`` schedules it at ``effective_at`` (in the future). Without a timing an upgrade
    (base fee not lower) applies immediately and a downgrade at period end.
    """
    subscription = _locked(subscription)
    _ensure_live(subscription)
    if subscription.cancel_at_period_end:
        raise ConflictError(
            "The subscription is canceled at period end; revoke the cancellation first.",
            code="subscription_canceling",
        )
    version = plan_version_for_sale(plan=plan, number=version_number)
    if version.pk == subscription.version_id:
        raise ConflictError(
            f"The subscription is already on {plan.code} v{version.number}.",
            code="same_version",
            fields={"plan": ["The subscription is already on this version."]},
        )
    _ensure_currency(subscription.version.currency, version, "plan")
    if timing is None:
        timing = (
            "immediately" if version.base_fee >= subscription.version.base_fee else "period_end"
        )
    if timing not in CHANGE_TIMINGS:
        raise ValidationError({"timing": [f"Choose one of: {', '.join(CHANGE_TIMINGS)}."]})
    now = timezone.now()
    old_version = subscription.version
    if timing == "immediately":
        subscription.version = version
        subscription.scheduled_version, subscription.scheduled_change_at = None, None
        change_at = now
    else:
        if timing == "effective":
            if effective_at is None:
                raise ValidationError({"effective_at": ["Give the time the change takes effect."]})
            change_at = _aware(effective_at, "effective_at")
            if change_at <= now:
                raise ValidationError(
                    {"effective_at": ["Must be in the future; use timing 'immediately' for now."]}
                )
        else:
            change_at = subscription.current_period_end
        subscription.scheduled_version, subscription.scheduled_change_at = version, change_at
    subscription.full_clean()
    subscription.save()
    audit_log_write(
        actor=actor,
        action="subscription.plan_changed"
        if timing == "immediately"
        else "subscription.plan_change_scheduled",
        obj=subscription,
        changes={
            "from": f"{old_version.plan.code} v{old_version.number}",
            "to": f"{plan.code} v{version.number}",
            "timing": timing,
            "change_at": jsonable(change_at),
        },
        reason=reason,
    )
    return subscription


@transaction.atomic
def subscription_scheduled_change_cancel(
    *, subscription: Subscription, actor: Any = None, reason: str = ""
) -> Subscription:
    subscription = _locked(subscription)
    if subscription.scheduled_version_id is None:
        return subscription
    dropped = subscription.scheduled_version
    subscription.scheduled_version, subscription.scheduled_change_at = None, None
    subscription.save(update_fields=["scheduled_version", "scheduled_change_at", "updated_at"])
    audit_log_write(
        actor=actor,
        action="subscription.scheduled_change_canceled",
        obj=subscription,
        changes={"dropped": f"{dropped.plan.code} v{dropped.number}" if dropped else None},
        reason=reason,
    )
    return subscription


def _apply_due_change(subscription: Subscription, at: datetime) -> dict[str, Any] | None:
    if subscription.scheduled_version_id is None or subscription.scheduled_change_at > at:
        return None
    change = {
        "from_version": subscription.version_id,
        "to_version": subscription.scheduled_version_id,
    }
    subscription.version = subscription.scheduled_version
    subscription.scheduled_version, subscription.scheduled_change_at = None, None
    return change


@transaction.atomic
def subscription_scheduled_change_apply(
    *, subscription: Subscription, now: datetime | None = None, actor: Any = None
) -> Subscription:
    """Apply a scheduled plan change whose time has come (mid-period ``effective`` changes);
    a no-op otherwise. Period-end changes are applied by ``subscription_period_advance``."""
    subscription = _locked(subscription)
    change = _apply_due_change(subscription, now or timezone.now())
    if change is not None:
        subscription.full_clean()
        subscription.save()
        audit_log_write(
            actor=actor,
            action="subscription.scheduled_change_applied",
            obj=subscription,
            changes=change,
        )
    return subscription


@transaction.atomic
def subscription_period_advance(
    *, subscription: Subscription, now: datetime | None = None, actor: Any = None
) -> Subscription:
    """Close the current period (which must have ended) and open the next one.

    At the boundary: a cancellation at period end ends the subscription; a scheduled change
    due by then is applied; the trial status is refreshed. When the interval changed, the
    anchor moves to the boundary so periods restart there. One period per call: a caller
    catching up loops until ``current_period_end`` is in the future.
    """
    subscription = _locked(subscription)
    _ensure_live(subscription)
    now = now or timezone.now()
    boundary = subscription.current_period_end
    if boundary > now:
        raise ConflictError(
            f"The current period ends at {boundary.isoformat()}; it cannot be advanced yet.",
            code="period_not_ended",
        )
    changes: dict[str, Any] = {
        "closed": [jsonable(subscription.current_period_start), jsonable(boundary)]
    }
    if subscription.cancel_at_period_end:
        subscription.status = Subscription.Status.ENDED
        subscription.ended_at = boundary
        changes["ended_at"] = jsonable(boundary)
    else:
        applied = _apply_due_change(subscription, boundary)
        if applied:
            changes["version_change"] = applied
        interval, billing_time = subscription.version.interval, subscription.billing_time
        start, end = period_containing(
            subscription.billing_anchor, boundary, interval, billing_time
        )  # type: ignore[arg-type]
        if start != boundary:
            subscription.billing_anchor = boundary
            start, end = first_period(boundary, interval, billing_time)  # type: ignore[arg-type]
            changes["billing_anchor"] = jsonable(boundary)
        subscription.current_period_start, subscription.current_period_end = start, end
        subscription.status = _status_at(subscription, max(now, start))
        changes["opened"] = [jsonable(start), jsonable(end)]
    subscription.full_clean()
    subscription.save()
    audit_log_write(
        actor=actor, action="subscription.period_advanced", obj=subscription, changes=changes
    )
    if subscription.is_live:
        _period_opened(subscription, subscription.current_period_start)
    return subscription
