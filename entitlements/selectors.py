"""The entitlement decision: one selector (``entitlement_get``) for the API, the consume path,
the admin and the list. A check is two statements whatever the event table holds
(``entitlements.sql``): the feature in force (subscription, plan value, override), then the
window's usage counter, open holds and credit balance. The list reads the effective plan through
``pricing_for_subscription`` and decides each feature the same way."""

import json
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from billing_site.core.exceptions import NotFoundError
from billing_site.core.periods import period_containing
from billing_site.core.sql import prepared_fetchone
from entitlements.counters import usage_counter_current
from entitlements.decision import ZERO, Allowance, Verdict, decide, limit_window
from entitlements.models import Hold, UsageCounter
from entitlements.sql import (
    FEATURE_IN_FORCE_BY_EXTERNAL_ID,
    FEATURE_IN_FORCE_BY_ID,
    WINDOW_STATE,
)
from plans.models import Customer, PlanFeature, PlanVersion, Subscription
from plans.selectors import EffectiveFeature, EffectivePricing, pricing_for_subscription

LIVE = (Subscription.Status.TRIALING, Subscription.Status.ACTIVE)


@dataclass(frozen=True)
class EntitlementDecision:
    customer_id: int
    external_id: str
    feature: str
    quantity: Decimal
    allowed: bool
    reason: str
    kind: str | None = None
    feature_id: int | None = None
    enabled: bool | None = None
    value: Any = None
    limit: Decimal | None = None
    used: Decimal | None = None
    credits: Decimal = ZERO  # available to this feature now (after usage they already owe)
    held: Decimal = ZERO
    remaining: Decimal | None = None
    credit_balance: Decimal = ZERO  # the grants' balance (credit_balance_get's total)
    cap: str | None = None
    reset_period: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    subscription_id: int | None = None
    subscription_external_id: str | None = None
    plan_code: str | None = None
    source: str | None = None  # plan | override
    metric_id: int | None = None
    alert_thresholds: tuple[int, ...] = ()
    counter: UsageCounter | None = field(default=None, repr=False, compare=False)
    verdict: Verdict | None = field(default=None, repr=False, compare=False)


def live_subscriptions(*, customer: Customer) -> list[Subscription]:
    return list(
        Subscription.objects.filter(customer=customer, status__in=LIVE)
        .select_related("version__plan", "scheduled_version__plan")
        .order_by("started_at", "id")
    )


def billing_period_at(subscription: Any, interval: str, at: datetime) -> tuple[datetime, datetime]:
    """The stored current period, or the one holding ``at`` when the period has moved on and the
    beat task has not advanced it yet."""
    if subscription.current_period_start <= at < subscription.current_period_end:
        return subscription.current_period_start, subscription.current_period_end
    return period_containing(subscription.billing_anchor, at, interval, subscription.billing_time)


@dataclass(frozen=True)
class InForce:
    """The live subscription a decision is about, and its billing period at the decision's
    time."""

    subscription_id: int
    subscription_external_id: str
    started_at: datetime
    period_start: datetime
    period_end: datetime
    version_id: int
    plan_code: str

    @classmethod
    def of(cls, subscription: Subscription, pricing: EffectivePricing, at: datetime) -> "InForce":
        start, end = billing_period_at(subscription, pricing.interval, at)
        return cls(
            subscription.pk,
            subscription.external_id,
            subscription.started_at,
            start,
            end,
            pricing.version_id,
            pricing.plan_code,
        )


@dataclass(frozen=True)
class _SubscriptionRow:
    current_period_start: datetime
    current_period_end: datetime
    billing_anchor: datetime
    billing_time: str


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def feature_in_force(
    customer: Customer | None,
    slug: str,
    at: datetime,
    *,
    external_id: str | None = None,
) -> tuple[InForce | None, EffectiveFeature | None, str | None, Customer, "Prefetched | None"]:
    """One statement (``entitlements.sql.FEATURE_IN_FORCE``): the customer (given, or found by
    ``external_id``: NotFoundError if none), its live subscription with the feature and the
    feature's effective value, plan then override. Without a live subscription the first two are
    None; when no subscription has the feature, the second is."""
    params = {
        "customer_id": customer.pk if customer is not None else None,
        "external_id": None if customer is not None else external_id,
        "slug": slug,
        "at": at,
    }
    sql = FEATURE_IN_FORCE_BY_ID if customer is not None else FEATURE_IN_FORCE_BY_EXTERNAL_ID
    row = prepared_fetchone(sql, params)
    in_force, effective, plan_code, customer, rest = in_force_of_row(
        row, customer, at, external_id=external_id
    )
    if effective is None or effective.metric_id is None or rest is None:
        return in_force, effective, plan_code, customer, None
    return in_force, effective, plan_code, customer, Prefetched(*rest[:8])


def in_force_of_row(
    row: tuple[Any, ...] | None,
    customer: Customer | None,
    at: datetime,
    *,
    external_id: str | None,
) -> tuple[InForce | None, EffectiveFeature | None, str | None, Customer, tuple[Any, ...] | None]:
    """The customer, feature in force and effective value from a row of a statement built on
    ``entitlements.sql._FEATURE_IN_FORCE``, and the columns it selects after them (None when the
    feature is not in force)."""
    if row is None:
        raise NotFoundError(
            f"No customer with external id {external_id!r}.",
            fields={"external_id": ["No such customer."]},
        )
    customer = customer or Customer(pk=row[0], external_id=row[1])
    row = row[2:]
    if row[0] is None:
        return None, None, None, customer, None
    (sub_id, sub_ext, started_at, period_start, period_end, anchor, billing_time) = row[:7]
    (version_id, interval, plan_code, feature_id, feature_slug, kind, metric_id) = row[7:14]
    (on_plan, enabled, value, limit, reset_period, cap, thresholds, override_id) = row[14:22]
    # Django's connection hands jsonb back as text (its fields decode it): decode it here.
    override = _json(row[22]) or {}
    value = _json(value)
    start, end = billing_period_at(
        _SubscriptionRow(period_start, period_end, anchor, billing_time), interval, at
    )
    in_force = InForce(sub_id, sub_ext, started_at, start, end, version_id, plan_code)
    if feature_id is None or (not on_plan and override_id is None):
        return in_force, None, plan_code, customer, None
    if not on_plan:  # only an override grants it (as pricing_for_subscription does)
        enabled, value, limit, thresholds = True, None, None, None
        reset_period, cap = "billing", "hard"
    effective = EffectiveFeature(
        feature_id=feature_id,
        slug=feature_slug,
        kind=kind,
        metric_id=metric_id,
        enabled=override.get("enabled", enabled),
        value=override.get("value", value),
        limit=_decimal(override["limit"]) if "limit" in override else _decimal(limit),
        reset_period=override.get("reset_period", reset_period),
        cap=override.get("cap", cap),
        on_plan=on_plan,
        override_id=override_id,
        alert_thresholds=tuple(thresholds) if thresholds is not None else (80, 100),
    )
    return in_force, effective, plan_code, customer, row[24:]


@dataclass(frozen=True)
class Prefetched:
    """The window state the first statement read, for the window SQL computed."""

    window_start: datetime | None
    window_end: datetime | None
    counter_id: int | None
    quantity: Decimal | None
    credited: Decimal | None
    stale: bool | None
    held: Decimal
    credits: Decimal


@dataclass(frozen=True)
class WindowState:
    counter: UsageCounter
    held: Decimal
    credits: Decimal


def window_state(
    *,
    customer: Customer,
    feature_id: int,
    metric_id: int,
    window_start: datetime,
    window_end: datetime,
    at: datetime,
    prefetched: Prefetched | None = None,
) -> WindowState:
    """What the first statement read when it is for this window and its counter is current;
    else one statement (``entitlements.sql.WINDOW_STATE``), a missing or stale counter being
    first built or recomputed from metering."""
    if (
        prefetched is not None
        and prefetched.counter_id is not None
        and not prefetched.stale
        and (prefetched.window_start, prefetched.window_end) == (window_start, window_end)
    ):
        return WindowState(
            counter=UsageCounter(
                id=prefetched.counter_id,
                customer_id=customer.pk,
                metric_id=metric_id,
                window_start=window_start,
                window_end=window_end,
                quantity=prefetched.quantity,
                credited=prefetched.credited,
                stale=False,
            ),
            held=prefetched.held,
            credits=prefetched.credits,
        )
    params = {
        "customer_id": customer.pk,
        "feature_id": feature_id,
        "metric_id": metric_id,
        "window_start": window_start,
        "window_end": window_end,
        "at": at,
    }
    row = prepared_fetchone(WINDOW_STATE, params)
    if row is None:  # it selects from a one-row table: never
        raise RuntimeError("The window state statement returned no row.")
    counter_id, quantity, credited, stale, held, credits = row
    if counter_id is None or stale:
        counter = usage_counter_current(
            customer_id=customer.pk,
            external_id=customer.external_id,
            metric_id=metric_id,
            window_start=window_start,
            window_end=window_end,
        )
    else:
        counter = UsageCounter(
            id=counter_id,
            customer_id=customer.pk,
            metric_id=metric_id,
            window_start=window_start,
            window_end=window_end,
            quantity=quantity,
            credited=credited,
            stale=False,
        )
    return WindowState(counter=counter, held=held, credits=credits)


def held_quantity(*, customer_id: int, feature_id: int, at: datetime) -> Decimal:
    total = Hold.objects.filter(
        customer_id=customer_id,
        feature_id=feature_id,
        status=Hold.Status.HELD,
        expires_at__gt=at,
    ).aggregate(total=Sum("quantity"))["total"]
    return total or ZERO


def decision_for(
    *,
    customer: Customer,
    in_force: InForce,
    effective: EffectiveFeature,
    quantity: Decimal,
    at: datetime,
    exclude_hold: Hold | None = None,
    prefetched: Prefetched | None = None,
) -> EntitlementDecision:
    """The decision for a feature in force (the consume path calls it again under its lock,
    without ``prefetched``: it must read what the previous holder of the lock wrote)."""
    base: dict[str, Any] = {
        "customer_id": customer.pk,
        "external_id": customer.external_id,
        "feature": effective.slug,
        "quantity": quantity,
        "kind": effective.kind,
        "feature_id": effective.feature_id,
        "enabled": effective.enabled,
        "value": effective.value,
        "subscription_id": in_force.subscription_id,
        "subscription_external_id": in_force.subscription_external_id,
        "plan_code": in_force.plan_code,
        "source": "override" if effective.override_id else "plan",
        "alert_thresholds": effective.alert_thresholds,
    }
    if effective.kind != "metered" or effective.metric_id is None:
        verdict = decide(Allowance(kind=effective.kind, enabled=effective.enabled), quantity)
        return EntitlementDecision(
            **base,
            allowed=verdict.allowed,
            reason=verdict.reason,
            period_start=in_force.period_start,
            period_end=in_force.period_end,
            verdict=verdict,
        )
    window_start, window_end = limit_window(
        reset_period=effective.reset_period,
        at=at,
        period_start=in_force.period_start,
        period_end=in_force.period_end,
        started_at=in_force.started_at,
    )
    state = window_state(
        customer=customer,
        feature_id=effective.feature_id,
        metric_id=effective.metric_id,
        window_start=window_start,
        window_end=window_end,
        at=at,
        prefetched=prefetched,
    )
    held = state.held
    if exclude_hold is not None and exclude_hold.status == Hold.Status.HELD:
        held = max(ZERO, held - exclude_hold.quantity)
    counter = state.counter
    verdict = decide(
        Allowance(
            kind=effective.kind,
            enabled=effective.enabled,
            limit=effective.limit,
            cap=effective.cap,
            used=counter.quantity,
            credited=counter.credited,
            credits=state.credits,
            held=held,
        ),
        quantity,
    )
    return EntitlementDecision(
        **base,
        allowed=verdict.allowed,
        reason=verdict.reason,
        limit=effective.limit,
        used=counter.quantity,
        credits=verdict.credits_available,
        credit_balance=state.credits,
        held=held,
        remaining=verdict.remaining,
        cap=effective.cap,
        reset_period=effective.reset_period,
        period_start=window_start,
        period_end=window_end,
        metric_id=effective.metric_id,
        counter=counter,
        verdict=verdict,
    )


def decision_after(
    decision: EntitlementDecision, *, counter: UsageCounter, credits_burned: Decimal
) -> EntitlementDecision:
    """The decision's numbers once the usage it allowed was counted and its credits burned,
    without reading again (the caller holds the lock, so nothing else moved)."""
    balance = decision.credit_balance - credits_burned
    verdict = decide(
        Allowance(
            kind=decision.kind or "metered",
            enabled=bool(decision.enabled),
            limit=decision.limit,
            cap=decision.cap or "hard",
            used=counter.quantity,
            credited=counter.credited,
            credits=balance,
            held=decision.held,
        ),
        ZERO,
    )
    return replace(
        decision,
        quantity=ZERO,
        allowed=verdict.allowed,
        reason=verdict.reason,
        used=counter.quantity,
        credits=verdict.credits_available,
        credit_balance=balance,
        remaining=verdict.remaining,
        counter=counter,
        verdict=verdict,
    )


def entitlement_get(
    *,
    customer: Customer | None = None,
    external_id: str | None = None,
    feature: str,
    quantity: Decimal = Decimal(1),
    at: datetime | None = None,
) -> EntitlementDecision:
    """May the customer (given, or by ``external_id``: NotFoundError when unknown) use
    ``quantity`` more of ``feature`` (a slug) now, and the numbers."""
    at = at or timezone.now()
    in_force, effective, plan_code, customer, prefetched = feature_in_force(
        customer, feature, at, external_id=external_id
    )
    if in_force is None or effective is None:
        return EntitlementDecision(
            customer_id=customer.pk,
            external_id=customer.external_id,
            feature=feature,
            quantity=quantity,
            allowed=False,
            reason="no_subscription" if in_force is None else "not_in_plan",
            subscription_id=in_force.subscription_id if in_force else None,
            subscription_external_id=in_force.subscription_external_id if in_force else None,
            plan_code=plan_code,
        )
    return decision_for(
        customer=customer,
        in_force=in_force,
        effective=effective,
        quantity=quantity,
        at=at,
        prefetched=prefetched,
    )


def entitlements_list(
    *, customer: Customer, at: datetime | None = None
) -> list[EntitlementDecision]:
    """Every feature of the customer's live subscriptions with its effective value and numbers
    (for one more unit)."""
    at = at or timezone.now()
    decisions: list[EntitlementDecision] = []
    seen: set[str] = set()
    for subscription in live_subscriptions(customer=customer):
        pricing = pricing_for_subscription(subscription=subscription, at=at)
        for effective in pricing.features:
            if effective.slug in seen:
                continue
            seen.add(effective.slug)
            decisions.append(
                decision_for(
                    customer=customer,
                    in_force=InForce.of(subscription, pricing, at),
                    effective=effective,
                    quantity=Decimal(1),
                    at=at,
                )
            )
    return decisions


def upgrade_plans(*, feature_id: int, needed: Decimal, exclude_version_id: int | None) -> list[str]:
    """Codes of plans whose latest published version would allow ``needed`` units of the
    feature in a window (unlimited, or a limit at least that high): the 402's upgrade hint."""
    rows = (
        PlanFeature.objects.filter(
            feature_id=feature_id,
            enabled=True,
            version__status=PlanVersion.Status.PUBLISHED,
        )
        .exclude(version_id=exclude_version_id)
        .select_related("version__plan")
        .order_by("version__plan__code", "-version__number")
    )
    codes: list[str] = []
    seen: set[int] = set()
    for pf in rows:
        if pf.version.plan_id in seen:
            continue
        seen.add(pf.version.plan_id)
        if pf.limit is None or pf.limit >= needed:
            codes.append(pf.version.plan.code)
    return codes
