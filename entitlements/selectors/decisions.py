"""The decision itself, for one feature (``entitlement_get``) or all of them
(``entitlements_list``), and the plans that would allow more."""

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from entitlements.decision import ZERO, Allowance, Verdict, decide, limit_window
from entitlements.models import Hold, UsageCounter
from entitlements.selectors.in_force import InForce, feature_in_force, live_subscriptions
from entitlements.selectors.window import Prefetched, window_state
from plans.models import Customer, PlanFeature, PlanVersion
from plans.selectors import EffectiveFeature, pricing_for_subscription


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
