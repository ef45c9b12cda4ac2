"""Burning credits in burn order: in real time (consumes) and for invoices (apply, and give
back on void). Each movement is a ledger row with a unique key, so a retry moves nothing twice;
burns lock the customer's grants of the feature first (``credits.lock_objects``)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing_site.core.audit import actor_label, audit_log_write
from credits.lock_objects import credit_grants_lock
from credits.models import CreditLedgerEntry
from credits.selectors import ZERO, credit_balance_get, credits_consumed_in_period
from plans.models import Customer, Feature

Kind = CreditLedgerEntry.Kind


@dataclass(frozen=True)
class Burn:
    grant_id: int
    amount: Decimal  # units taken (positive)
    billing_visible: bool
    definition_id: int | None


def _burn(
    *,
    customer_id: int,
    feature_id: int,
    quantity: Decimal,
    reference: str,
    at: datetime,
    period_start: datetime | None,
    period_end: datetime | None,
    actor: Any = None,
) -> list[Burn]:
    """Take up to ``quantity`` units in burn order; the caller holds the grants' locks."""
    burns: list[Burn] = []
    left = quantity
    for grant in credit_balance_get(customer=customer_id, feature=feature_id, at=at).grants:
        if left <= 0:
            break
        take = min(left, grant.remaining)
        CreditLedgerEntry.objects.create(
            grant_id=grant.grant_id,
            customer_id=customer_id,
            feature_id=feature_id,
            kind=Kind.CONSUME,
            amount=-take,
            occurred_at=at,
            key=f"{reference}:{grant.grant_id}",
            reference=reference,
            period_start=period_start,
            period_end=period_end,
            actor_label=actor_label(actor)[:150],
        )
        burns.append(Burn(grant.grant_id, take, grant.billing_visible, grant.definition_id))
        left -= take
    return burns


def _burns_of(reference: str) -> list[Burn]:
    return [
        Burn(entry.grant_id, -entry.amount, entry.grant.billing_visible, entry.grant.definition_id)
        for entry in CreditLedgerEntry.objects.filter(reference=reference, kind=Kind.CONSUME)
        .select_related("grant")
        .order_by("id")
    ]


@transaction.atomic
def credits_consume(
    *,
    customer: Customer | int,
    feature: Feature | int,
    quantity: Decimal,
    reference: str,
    at: datetime | None = None,
    period_start: datetime | None = None,
    period_end: datetime | None = None,
    actor: Any = None,
) -> list[Burn]:
    """Burn up to ``quantity`` units now, in burn order; idempotent on ``reference`` (a retry
    returns the first burns). Returns what each grant gave; their sum may be less than asked."""
    customer_id = customer if isinstance(customer, int) else customer.pk
    feature_id = feature if isinstance(feature, int) else feature.pk
    list(credit_grants_lock(customer_id=customer_id, feature_id=feature_id))
    done = _burns_of(reference)
    if done or quantity <= 0:
        return done
    return _burn(
        customer_id=customer_id,
        feature_id=feature_id,
        quantity=quantity,
        reference=reference,
        at=at or timezone.now(),
        period_start=period_start,
        period_end=period_end,
        actor=actor,
    )


@dataclass(frozen=True)
class CreditApplication:
    """Credits an invoice applies to a feature's usage: those burned in real time for the period
    (by consumes) plus those burned now for the rest, per grant (for the invoice's lines)."""

    invoice_key: str
    requested: Decimal
    applied: Decimal
    burned_in_real_time: Decimal
    burns: tuple[Burn, ...]  # the burns this application made (reversed on void)


def _invoice_reference(invoice_key: str, feature_id: int) -> str:
    return f"invoice:{invoice_key}:{feature_id}"


@transaction.atomic
def credits_apply_to_usage(
    *,
    customer: Customer,
    feature: Feature,
    quantity: Decimal,
    period_start: datetime,
    period_end: datetime,
    invoice_key: str,
    at: datetime | None = None,
) -> CreditApplication:
    """Apply credits to ``quantity`` units of a feature's usage billed for ``[period_start,
    period_end)`` (the units beyond what the plan includes), for invoice ``invoice_key``.

    Units already covered by credits in real time (consumes in the period) count first; the rest
    burns now in burn order from the grants usable at ``at`` (default: the period's end, just
    before it). Idempotent on (invoice_key, feature): a rerun returns the first application."""
    if quantity < 0:
        raise ValidationError({"quantity": ["The quantity must not be negative."]})
    at = at or (period_end - timedelta(microseconds=1))
    list(credit_grants_lock(customer_id=customer.pk, feature_id=feature.pk))
    realtime = credits_consumed_in_period(
        customer_id=customer.pk,
        feature_id=feature.pk,
        period_start=period_start,
        period_end=period_end,
    )
    covered = min(realtime, quantity)
    reference = _invoice_reference(invoice_key, feature.pk)
    burns = _burns_of(reference)
    if not burns and quantity - covered > 0:
        burns = _burn(
            customer_id=customer.pk,
            feature_id=feature.pk,
            quantity=quantity - covered,
            reference=reference,
            at=at,
            period_start=period_start,
            period_end=period_end,
        )
    burned = sum((b.amount for b in burns), ZERO)
    return CreditApplication(
        invoice_key=invoice_key,
        requested=quantity,
        applied=covered + burned,
        burned_in_real_time=covered,
        burns=tuple(burns),
    )


@transaction.atomic
def credits_application_reverse(
    *, invoice_key: str, reason: str = "Invoice voided", actor: Any = None
) -> Decimal:
    """Give back what ``credits_apply_to_usage`` burned for ``invoice_key`` (on void), as ``void``
    rows; idempotent. Credits burned in real time stay burned: that usage happened. Returns the
    units given back by this call."""
    entries = list(
        CreditLedgerEntry.objects.filter(
            reference__startswith=f"invoice:{invoice_key}:", kind=Kind.CONSUME
        ).order_by("id")
    )
    if entries:
        list(
            credit_grants_lock(customer_id=entries[0].customer_id, feature_id=entries[0].feature_id)
        )
    returned = ZERO
    for entry in entries:
        key = f"void:{entry.key}"
        if CreditLedgerEntry.objects.filter(key=key).exists():
            continue
        CreditLedgerEntry.objects.create(
            grant_id=entry.grant_id,
            customer_id=entry.customer_id,
            feature_id=entry.feature_id,
            kind=Kind.VOID,
            amount=-entry.amount,
            occurred_at=max(timezone.now(), entry.occurred_at),
            key=key,
            reference=entry.reference,
            period_start=entry.period_start,
            period_end=entry.period_end,
            reason=reason,
            actor_label=actor_label(actor)[:150],
        )
        returned += -entry.amount
    if entries and returned:
        audit_log_write(
            actor=actor,
            action="credit_application.reversed",
            obj=entries[0].grant,
            changes={"invoice_key": invoice_key, "returned": returned},
            reason=reason,
        )
    return returned
