"""Coupons given to customers, redeemed by finalized invoices and given back by voids.

A draft or a preview only reads a coupon. Finalization, holding the customer's applied coupons
locked from before its last computation, records one ``CouponRedemption`` per coupon line
(unique per applied coupon and invoice, so finalizing twice redeems once): a period counted, and
for a fixed coupon given once the discount taken off its balance, which carries to the next
invoice. Voiding the invoice gives both back, once (``restored_at``).
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from billing_site.core.audit import audit_log_write
from billing_site.core.exceptions import ApplicationError, ConflictError, NotFoundError
from invoices.adjustment_models import AppliedCoupon, Coupon, CouponRedemption
from invoices.models import Invoice, InvoiceLine
from plans.models import Customer

ACTIVE, USED_UP = AppliedCoupon.Status.ACTIVE, AppliedCoupon.Status.USED_UP
_REMAINING = ["periods_remaining", "amount_remaining", "status", "updated_at"]


def _refuse(message: str, *, code: str, field: str, status: int) -> ApplicationError:
    return ApplicationError(message, code=code, status=status, fields={field: [message]})


def _carries_balance(coupon: Coupon) -> bool:
    return coupon.kind == Coupon.Kind.FIXED and coupon.duration == Coupon.Duration.ONCE


@transaction.atomic
def coupon_apply(
    *,
    customer: Customer,
    code: str,
    amount: Decimal | None = None,
    percentage: Decimal | None = None,
    actor: Any = None,
    now: datetime | None = None,
) -> AppliedCoupon:
    """Give the coupon ``code`` to the customer, optionally on terms of its own (an amount for a
    fixed coupon, a rate for a percentage one). Refused (4xx naming the field) when the code is
    unknown, expired, out of redemptions or already active for the customer."""
    now = now or timezone.now()
    # Locking the coupon makes the redemption limit hold under concurrent applications.
    coupon = Coupon.objects.select_for_update().filter(code=code).first()
    if coupon is None:
        raise NotFoundError(f"No coupon with code {code!r}.", fields={"code": ["Unknown code."]})
    if coupon.expires_on is not None and coupon.expires_on < now.date():
        raise _refuse(
            f"Coupon {code} expired on {coupon.expires_on:%Y-%m-%d}.",
            code="coupon_expired",
            field="code",
            status=422,
        )
    if (
        coupon.redemption_limit is not None
        and coupon.applications.count() >= coupon.redemption_limit
    ):
        raise _refuse(
            f"Coupon {code} has reached its limit of {coupon.redemption_limit} customers.",
            code="coupon_limit_reached",
            field="code",
            status=422,
        )
    if amount is not None and coupon.kind != Coupon.Kind.FIXED:
        raise _refuse(
            "Only a fixed coupon takes an amount.", code="invalid", field="amount", status=400
        )
    if percentage is not None and coupon.kind != Coupon.Kind.PERCENTAGE:
        raise _refuse(
            "Only a percentage coupon takes a percentage.",
            code="invalid",
            field="percentage",
            status=400,
        )
    if percentage is not None and not Decimal(0) <= percentage <= Decimal(100):
        raise _refuse(
            "A percentage is between 0 and 100.", code="invalid", field="percentage", status=400
        )
    if amount is not None and amount < 0:
        raise _refuse("An amount cannot be negative.", code="invalid", field="amount", status=400)
    # Once used up, a coupon is not given to the same customer again (the coupon's row lock
    # makes this hold under concurrent applications; the unique key covers active ones too).
    held = AppliedCoupon.objects.filter(customer=customer, coupon=coupon)
    if held.exclude(status=AppliedCoupon.Status.REMOVED).exists():
        raise ConflictError(
            f"Coupon {code} is already applied to {customer.external_id}.",
            code="coupon_already_applied",
            fields={"code": ["Already applied to this customer."]},
        )
    terms_amount = amount if amount is not None else coupon.amount
    periods = {Coupon.Duration.PERIODS: coupon.duration_periods, Coupon.Duration.FOREVER: None}
    try:
        with transaction.atomic():
            applied = AppliedCoupon.objects.create(
                customer=customer,
                coupon=coupon,
                amount=amount,
                percentage=percentage,
                periods_remaining=periods.get(
                    coupon.duration, None if _carries_balance(coupon) else 1
                ),
                amount_remaining=terms_amount if _carries_balance(coupon) else None,
                created_at=now,
            )
    except IntegrityError as exc:  # a concurrent application of the same coupon won
        raise ConflictError(
            f"Coupon {code} is already applied to {customer.external_id}.",
            code="coupon_already_applied",
            fields={"code": ["Already applied to this customer."]},
        ) from exc
    audit_log_write(
        actor=actor,
        action="coupon.applied",
        obj=applied,
        changes={
            "customer": customer.external_id,
            "coupon": coupon.code,
            "amount": amount,
            "percentage": percentage,
        },
    )
    return applied


def _coupon_lines(invoice: Invoice) -> list[InvoiceLine]:
    return list(invoice.lines.filter(kind=InvoiceLine.Kind.COUPON).order_by("position", "id"))


def _locked(ids: list[int]) -> dict[int, AppliedCoupon]:
    # In id order, so two finalizations of the same customer's invoices cannot deadlock.
    rows = AppliedCoupon.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {row.pk: row for row in rows.select_related("coupon")}


def applied_coupons_lock(*, invoice: Invoice) -> bool:
    """Lock the customer's applied coupons for a finalization; True when the invoice's stored
    coupon lines ask more than the coupons still give (another invoice redeemed them since), so
    the invoice must be computed again before it is finalized."""
    ids = list(
        AppliedCoupon.objects.filter(customer_id=invoice.customer_id).values_list("pk", flat=True)
    )
    if not ids:
        return False
    # Invoice first, then coupons: the order a void takes too, so the two cannot deadlock.
    Invoice.objects.select_for_update().filter(pk=invoice.pk).values_list("pk").first()
    locked = _locked(ids)
    for line in _coupon_lines(invoice):
        applied = locked.get(line.breakdown.get("applied_coupon_id"))
        if applied is None or applied.status != ACTIVE or applied.periods_remaining == 0:
            return True
        if applied.amount_remaining is not None and applied.amount_remaining < -line.amount:
            return True
    return False


def coupons_redeem(*, invoice: Invoice, now: datetime) -> list[CouponRedemption]:
    """Record what the (finalizing) invoice's coupon lines took; idempotent per invoice."""
    lines = _coupon_lines(invoice)
    if not lines:
        return []
    locked = _locked([line.breakdown["applied_coupon_id"] for line in lines])
    done = set(
        CouponRedemption.objects.filter(invoice=invoice).values_list("applied_coupon_id", flat=True)
    )
    redemptions = []
    for line in lines:
        applied = locked[line.breakdown["applied_coupon_id"]]
        if applied.pk in done:
            continue
        taken = -line.amount
        used_period = applied.periods_remaining is not None
        if used_period:
            applied.periods_remaining -= 1
        if applied.amount_remaining is not None:
            applied.amount_remaining -= taken
        if applied.periods_remaining == 0 or applied.amount_remaining == 0:
            applied.status = USED_UP
        applied.save(update_fields=_REMAINING)
        redemptions.append(
            CouponRedemption.objects.create(
                applied_coupon=applied,
                invoice=invoice,
                amount=taken,
                currency=invoice.currency,
                used_period=used_period,
                redeemed_at=now,
            )
        )
        audit_log_write(
            actor=None,
            action="coupon.redeemed",
            obj=applied,
            changes={"invoice": invoice.number, "amount": taken, "status": applied.status},
        )
    return redemptions


def coupons_restore(*, invoice: Invoice, actor: Any = None, now: datetime | None = None) -> int:
    """Give back what the (voided) invoice redeemed, once; returns how many coupons."""
    now = now or timezone.now()
    redemptions = list(
        CouponRedemption.objects.select_for_update()
        .filter(invoice=invoice, restored_at__isnull=True)
        .order_by("pk")
    )
    locked = _locked([r.applied_coupon_id for r in redemptions])
    for redemption in redemptions:
        applied = locked[redemption.applied_coupon_id]
        if redemption.used_period and applied.periods_remaining is not None:
            applied.periods_remaining += 1
        if applied.amount_remaining is not None:
            applied.amount_remaining += redemption.amount
        if (
            applied.status == USED_UP
            and not AppliedCoupon.objects.filter(
                customer_id=applied.customer_id, coupon_id=applied.coupon_id, status=ACTIVE
            )
            .exclude(pk=applied.pk)
            .exists()
        ):
            applied.status = ACTIVE
        applied.save(update_fields=_REMAINING)
        redemption.restored_at = now
        redemption.save(update_fields=["restored_at"])
        audit_log_write(
            actor=actor,
            action="coupon.restored",
            obj=applied,
            changes={"invoice": invoice.number, "amount": redemption.amount},
        )
    return len(redemptions)


@transaction.atomic
def applied_coupon_remove(
    *, applied: AppliedCoupon, actor: Any = None, reason: str
) -> AppliedCoupon:
    """Withdraw an active coupon from its customer: later invoices (and drafts when computed
    again) no longer take it; what finalized invoices redeemed stays redeemed."""
    if not reason.strip():
        raise ApplicationError(
            "Give a reason to remove a coupon.",
            code="reason_required",
            fields={"reason": ["Give a reason."]},
        )
    applied = AppliedCoupon.objects.select_for_update().select_related("coupon").get(pk=applied.pk)
    if applied.status != ACTIVE:
        raise ConflictError(
            f"Coupon {applied.coupon.code} is {applied.get_status_display().lower()}; only an "
            "active coupon can be removed.",
            code="coupon_not_active",
        )
    applied.status = AppliedCoupon.Status.REMOVED
    applied.save(update_fields=["status", "updated_at"])
    audit_log_write(
        actor=actor,
        action="coupon.removed",
        obj=applied,
        changes={"status": [ACTIVE, applied.status]},
        reason=reason,
    )
    return applied
