"""What credits an invoice may apply: the units the plan includes per metric, then the credit
units in burn order (``invoices.credit_math`` applies them).

Units a grant already burned in real time for the period (entitlement consumes, references
``consume:``) come first, then the grants' balances at the end of the billed window, in burn
order (``credits.selectors.credit_balance_get``, the one balance formula). The balances are read,
never burned: the ledger moves only when the invoice is finalized
(``invoices.services.credits.invoice_credits_settle``), over the same window, so a preview, the
draft and the finalized invoice apply the same credits if nothing else moves meanwhile.

Included units: a metered plan feature with a limit per billing period includes that limit (the
credits cover usage beyond it). A feature that is unlimited or resets on another rhythm (day,
week, never) leaves credits to real-time burns only; a feature not on the plan includes nothing.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import F, Sum

from credits.models import CreditGrant, CreditLedgerEntry
from credits.selectors import credit_balance_get
from invoices.credit_math import CreditUnits
from plans.models import Feature, ResetPeriod, Subscription
from plans.selectors import EffectivePricing

CREDITS_DESCRIPTION = "Credits"


@dataclass(frozen=True)
class PeriodCredits:
    credits: tuple[CreditUnits, ...] = ()
    included: dict[str, Decimal] = field(default_factory=dict)


def credits_at(end: datetime) -> datetime:
    """The moment the credits of a window ``[start, end)`` are read and burned: just before its
    end (a grant expiring at ``end`` still covers the window)."""
    return end - timedelta(microseconds=1)


def customers_with_credits_ids(*, subscription_ids: Iterable[int]) -> set[int]:
    """The customers of the subscriptions that have credit grants (one query for a batch)."""
    return set(
        Subscription.objects.filter(
            pk__in=list(subscription_ids), customer__credit_grants__isnull=False
        )
        .values_list("customer_id", flat=True)
        .distinct()
    )


def period_credits_get(
    *,
    customer_id: int,
    pricings: Sequence[EffectivePricing],
    start: datetime,
    end: datetime,
    credit_customers: set[int] | None = None,
) -> PeriodCredits:
    """The credit inputs of a customer's invoice for ``[start, end)`` whose windows had
    ``pricings``. ``credit_customers``, when a batch knows it, spares a customer without grants
    any query; otherwise one query finds that out, and four at most read the credits."""
    metric_codes = {c.metric_id: c.metric_code for p in pricings for c in p.charges}
    if not metric_codes:
        return PeriodCredits()
    if credit_customers is not None:
        if customer_id not in credit_customers:
            return PeriodCredits()
    elif not CreditGrant.objects.filter(customer_id=customer_id).exists():
        return PeriodCredits()
    realtime = list(
        CreditLedgerEntry.objects.filter(
            customer_id=customer_id,
            kind=CreditLedgerEntry.Kind.CONSUME,
            reference__startswith="consume:",
            period_start__gte=start,
            period_start__lt=end,
        )
        .values("grant_id", "feature_id", "grant__billing_visible")
        .annotate(units=-Sum("amount"))
        .order_by(
            "grant__priority",
            F("grant__expires_at").asc(nulls_last=True),
            "grant__effective_at",
            "grant_id",
        )
    )
    balance = credit_balance_get(customer=customer_id, at=credits_at(end))
    feature_ids = {row["feature_id"] for row in realtime} | {g.feature_id for g in balance.grants}
    if not feature_ids:
        return PeriodCredits()
    features = {
        f.pk: f for f in Feature.objects.filter(pk__in=feature_ids, metric_id__in=metric_codes)
    }
    plan_features = {}
    for pricing in reversed(pricings):
        plan_features |= {f.feature_id: f for f in pricing.features if f.on_plan}
    included: dict[str, Decimal] = {}
    burns_now: set[int] = set()
    for feature_id, feature in features.items():
        on_plan = plan_features.get(feature_id)
        code = metric_codes[feature.metric_id]  # type: ignore[index]
        if on_plan is None:
            burns_now.add(feature_id)
        elif on_plan.limit is not None and on_plan.reset_period == ResetPeriod.BILLING:
            included[code] = on_plan.limit
            burns_now.add(feature_id)
    credits = [
        CreditUnits(
            grant_id=row["grant_id"],
            metric_code=metric_codes[features[row["feature_id"]].metric_id],  # type: ignore[index]
            units=row["units"],
            billing_visible=row["grant__billing_visible"],
            description=CREDITS_DESCRIPTION,
            burned=True,
        )
        for row in realtime
        if row["feature_id"] in features and row["units"] > 0
    ]
    credits += [
        CreditUnits(
            grant_id=grant.grant_id,
            metric_code=metric_codes[features[grant.feature_id].metric_id],  # type: ignore[index]
            units=grant.remaining,
            billing_visible=grant.billing_visible,
            description=CREDITS_DESCRIPTION,
        )
        for grant in balance.grants
        if grant.feature_id in burns_now
    ]
    return PeriodCredits(credits=tuple(credits), included=included)
