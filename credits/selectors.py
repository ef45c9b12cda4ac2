"""Reads of credits: the one balance selector, and the ledger.

``credit_balance_get`` is the only formula for a balance (the API, the admin, entitlements and
invoicing all call it): a grant counts while ``effective_at <= at < expires_at`` and holds the
sum of its ledger rows written up to ``at``. Grants come back in burn order: lower priority
number first, then the soonest expiry (lifetime grants last), then the oldest.
"""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import connection
from django.db.models import DecimalField, F, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from credits.models import CreditDefinition, CreditGrant, CreditLedgerEntry
from credits.sql import grant_balances_sql
from plans.models import Customer, Feature, Subscription

ZERO = Decimal("0")
BURN_ORDER = ("priority", F("expires_at").asc(nulls_last=True), "effective_at", "id")


@dataclass(frozen=True)
class GrantBalance:
    grant_id: int
    feature_id: int
    feature_slug: str
    amount: Decimal
    remaining: Decimal
    priority: int
    effective_at: datetime
    expires_at: datetime | None
    source: str
    billing_visible: bool
    definition_id: int | None


@dataclass(frozen=True)
class CreditBalance:
    """A customer's usable credits (of one feature, or all) at ``at``, grants in burn order."""

    at: datetime
    total: Decimal
    grants: tuple[GrantBalance, ...]

    def for_feature(self, feature_id: int) -> Decimal:
        return sum((g.remaining for g in self.grants if g.feature_id == feature_id), ZERO)


def credit_balance_get(
    *, customer: Customer | int, feature: Feature | int | None = None, at: datetime | None = None
) -> CreditBalance:
    """One statement (``credits.sql``): the usable grants with the sum of their ledger rows up
    to ``at``, in burn order."""
    at = at or timezone.now()
    customer_id = customer if isinstance(customer, int) else customer.pk
    feature_id = feature if isinstance(feature, int) or feature is None else feature.pk
    sql, params = grant_balances_sql(customer_id=customer_id, feature_id=feature_id, at=at)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        grants = tuple(GrantBalance(*row) for row in cursor.fetchall())
    return CreditBalance(at=at, total=sum((g.remaining for g in grants), ZERO), grants=grants)


def credit_ledger_list(
    *, customer: Customer, feature: Feature | None = None
) -> QuerySet[CreditLedgerEntry]:
    entries = CreditLedgerEntry.objects.filter(customer=customer).select_related("feature", "grant")
    if feature is not None:
        entries = entries.filter(feature=feature)
    return entries.order_by("-occurred_at", "-id")


def credit_grants_list(*, customer: Customer) -> QuerySet[CreditGrant]:
    """Every grant of the customer (usable or not) in burn order, with its remaining units."""
    return (
        CreditGrant.objects.filter(customer=customer)
        .select_related("feature", "subscription")
        .annotate(
            remaining=Coalesce(Sum("entries__amount"), Value(ZERO), output_field=DecimalField())
        )
        .order_by(*BURN_ORDER)
    )


def credit_definitions_for_version(*, version_id: int) -> QuerySet[CreditDefinition]:
    return CreditDefinition.objects.filter(version_id=version_id).select_related("feature")


def credits_consumed_in_period(
    *, customer_id: int, feature_id: int, period_start: datetime, period_end: datetime
) -> Decimal:
    """Units burned in real time (by consumes) for usage in ``[period_start, period_end)``."""
    total = CreditLedgerEntry.objects.filter(
        customer_id=customer_id,
        feature_id=feature_id,
        kind=CreditLedgerEntry.Kind.CONSUME,
        reference__startswith="consume:",
        period_start__gte=period_start,
        period_start__lt=period_end,
    ).aggregate(total=Sum("amount"))["total"]
    return -(total or ZERO)


def subscriptions_with_credits_ids() -> list[int]:
    """Live subscriptions whose version defines credits (the refill task's work list)."""
    return list(
        Subscription.objects.filter(
            status__in=(Subscription.Status.TRIALING, Subscription.Status.ACTIVE),
            version__credit_definitions__isnull=False,
        )
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
