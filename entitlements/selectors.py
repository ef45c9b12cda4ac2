"""The entitlement decision: one selector (``entitlement_get``) for the API, the consume path,
the admin and the list. Its reads are fixed whatever the event table holds: the customer's live
subscriptions, the effective plan (version features + overrides, via ``pricing_for_subscription``),
the window's usage counter, the credit balance and the active holds."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from billing_site.core.periods import period_containing
from credits.selectors import credit_balance_get
from entitlements.counters import usage_counter_current
from entitlements.decision import ZERO, Allowance, Verdict, decide, limit_window
from entitlements.models import Hold, UsageCounter
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
    credits: Decimal = ZERO
    held: Decimal = ZERO
    remaining: Decimal | None = None
    cap: str | None = None
    reset_period: str | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None
    subscription_id: int | None = None
    subscription_external_id: str | None = None
    plan_code: str | None = None
    source: str | None = None  # plan | override
    metric_id: int | None = None
    counter: UsageCounter | None = field(default=None, repr=False, compare=False)
    verdict: Verdict | None = field(default=None, repr=False, compare=False)


def live_subscriptions(*, customer: Customer) -> list[Subscription]:
    return list(
        Subscription.objects.filter(customer=customer, status__in=LIVE)
        .select_related("version__plan", "scheduled_version__plan")
        .order_by("started_at", "id")
    )


def billing_period_at(subscription: Subscription, pricing: EffectivePricing, at: datetime):
    """The stored current period, or the one holding ``at`` when the period has moved on and the
    beat task has not advanced it yet."""
    if subscription.current_period_start <= at < subscription.current_period_end:
        return subscription.current_period_start, subscription.current_period_end
    return period_containing(
        subscription.billing_anchor, at, pricing.interval, subscription.billing_time
    )


def feature_in_force(
    customer: Customer, slug: str, at: datetime
) -> tuple[Subscription | None, EffectivePricing | None, EffectiveFeature | None]:
    subscriptions = live_subscriptions(customer=customer)
    for subscription in subscriptions:
        pricing = pricing_for_subscription(subscription=subscription, at=at)
        effective = pricing.feature(slug)
        if effective is not None:
            return subscription, pricing, effective
    return (subscriptions[0] if subscriptions else None), None, None


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
    subscription: Subscription,
    pricing: EffectivePricing,
    effective: EffectiveFeature,
    quantity: Decimal,
    at: datetime,
    exclude_hold: Hold | None = None,
) -> EntitlementDecision:
    """The decision for a feature in force (the consume path calls it again under its lock)."""
    base: dict[str, Any] = {
        "customer_id": customer.pk,
        "external_id": customer.external_id,
        "feature": effective.slug,
        "quantity": quantity,
        "kind": effective.kind,
        "feature_id": effective.feature_id,
        "enabled": effective.enabled,
        "value": effective.value,
        "subscription_id": subscription.pk,
        "subscription_external_id": subscription.external_id,
        "plan_code": pricing.plan_code,
        "source": "override" if effective.override_id else "plan",
    }
    period_start, period_end = billing_period_at(subscription, pricing, at)
    if effective.kind != "metered" or effective.metric_id is None:
        verdict = decide(Allowance(kind=effective.kind, enabled=effective.enabled), quantity)
        return EntitlementDecision(
            **base,
            allowed=verdict.allowed,
            reason=verdict.reason,
            period_start=period_start,
            period_end=period_end,
            verdict=verdict,
        )
    window_start, window_end = limit_window(
        reset_period=effective.reset_period,
        at=at,
        period_start=period_start,
        period_end=period_end,
        started_at=subscription.started_at,
    )
    counter = usage_counter_current(
        customer_id=customer.pk,
        external_id=customer.external_id,
        metric_id=effective.metric_id,
        window_start=window_start,
        window_end=window_end,
    )
    credits = credit_balance_get(customer=customer.pk, feature=effective.feature_id, at=at).total
    held = held_quantity(customer_id=customer.pk, feature_id=effective.feature_id, at=at)
    if exclude_hold is not None and exclude_hold.status == Hold.Status.HELD:
        held = max(ZERO, held - exclude_hold.quantity)
    verdict = decide(
        Allowance(
            kind=effective.kind,
            enabled=effective.enabled,
            limit=effective.limit,
            cap=effective.cap,
            used=counter.quantity,
            credited=counter.credited,
            credits=credits,
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


def entitlement_get(
    *, customer: Customer, feature: str, quantity: Decimal = Decimal(1), at: datetime | None = None
) -> EntitlementDecision:
    """May ``customer`` use ``quantity`` more of ``feature`` (a slug) now, and the numbers."""
    at = at or timezone.now()
    subscription, pricing, effective = feature_in_force(customer, feature, at)
    if subscription is None or pricing is None or effective is None:
        return EntitlementDecision(
            customer_id=customer.pk,
            external_id=customer.external_id,
            feature=feature,
            quantity=quantity,
            allowed=False,
            reason="no_subscription" if subscription is None else "not_in_plan",
            subscription_id=subscription.pk if subscription else None,
            subscription_external_id=subscription.external_id if subscription else None,
            plan_code=subscription.version.plan.code if subscription else None,
        )
    return decision_for(
        customer=customer,
        subscription=subscription,
        pricing=pricing,
        effective=effective,
        quantity=quantity,
        at=at,
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
                    subscription=subscription,
                    pricing=pricing,
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
