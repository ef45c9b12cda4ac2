"""Coupons on real invoices: the order and caps, a percentage on a graduated line, the
remainder, a fixed balance carried to the next invoice, drafts that do not consume, finalization
that redeems once and a void that gives it back."""

from decimal import Decimal

import pytest

from billing_site.core.exceptions import ConflictError
from invoices.models import AppliedCoupon, CouponRedemption, InvoiceLine
from invoices.selectors import running_period_get
from invoices.services import (
    drafts_finalize,
    invoice_finalize,
    invoice_recompute,
    invoice_void,
    subscription_bill_due,
)
from invoices.services.coupons import coupon_apply
from tests.invoices.adjustment_factories import make_coupon
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc

pytestmark = pytest.mark.django_db

JAN_1, FEB_1, MAR_1 = utc(2026, 1, 1), utc(2026, 2, 1, 0, 5), utc(2026, 3, 1, 0, 5)


def _lines(invoice) -> list[tuple[str, Decimal]]:
    return [(line.kind, line.amount) for line in invoice.lines.order_by("position")]


def _reconciles(invoice) -> bool:
    return invoice.total == sum(invoice.lines.values_list("amount", flat=True))


def test_a_percentage_coupon_discounts_a_graduated_line_and_the_fee_spread_to_the_cent():
    # given a $49 plan with graduated tokens; 1,500 tokens cost 1000 x 0.02 + 500 x 0.01 = $25
    subscription = subscribe(plan_version(), started_at=JAN_1)
    send_tokens("acme", 1500, at=utc(2026, 1, 10))
    coupon_apply(customer=subscription.customer, code=make_coupon("ten", percentage="10").code)

    # when January is billed
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then 10 % of $74 = $7.40 comes off: $4.90 of the fee, $2.50 of the graduated line
    assert _lines(invoice) == [
        ("base_fee", Decimal("49.00")),
        ("usage", Decimal("25.00")),
        ("coupon", Decimal("-7.40")),
    ]
    coupon_line = invoice.lines.get(kind="coupon")
    assert coupon_line.breakdown["per_line"] == [
        ["pro v1 base fee", "4.90"],
        [invoice.lines.get(kind="usage").description, "2.50"],
    ]
    assert invoice.total == Decimal("66.60")
    assert _reconciles(invoice)


def test_coupons_apply_metric_limited_first_then_general_each_capped_at_what_remains():
    # given a general $100 coupon applied first, then 50 % off tokens only
    subscription = subscribe(plan_version(), started_at=JAN_1)
    send_tokens("acme", 1500, at=utc(2026, 1, 10))
    customer = subscription.customer
    general = coupon_apply(customer=customer, code=make_coupon("hundred", amount="100").code)
    coupon_apply(
        customer=customer, code=make_coupon("half-tokens", percentage="50", metrics=["tokens"]).code
    )

    # when January is billed ($49 fee + $25 tokens)
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then the metric coupon takes half the tokens ($12.50) although it is newer, and the general
    # coupon is capped at the $61.50 left: the invoice is zero and $38.50 stays on the coupon
    half, hundred = invoice.lines.filter(kind="coupon").order_by("position")
    assert (half.breakdown["coupon_code"], half.amount) == ("half-tokens", Decimal("-12.50"))
    assert (hundred.breakdown["coupon_code"], hundred.amount) == ("hundred", Decimal("-61.50"))
    invoice.refresh_from_db()
    assert (invoice.total, invoice.status) == (Decimal("0.00"), "paid")
    general.refresh_from_db()
    assert (general.amount_remaining, general.status) == (Decimal("38.5000"), "active")


def test_a_fixed_discount_is_spread_in_proportion_with_the_last_line_taking_the_remainder():
    # given $10 off over a $49 fee and $25 of tokens
    subscription = subscribe(plan_version(), started_at=JAN_1)
    send_tokens("acme", 1500, at=utc(2026, 1, 10))
    coupon_apply(customer=subscription.customer, code=make_coupon("ten-off", amount="10").code)

    # when
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then 10 x 49/74 = 6.6216... rounds down to $6.62 and the tokens line takes the $3.38 left
    parts = [Decimal(part) for _, part in invoice.lines.get(kind="coupon").breakdown["per_line"]]
    assert parts == [Decimal("6.62"), Decimal("3.38")]
    assert invoice.total == Decimal("64.00")
    assert _reconciles(invoice)


def test_a_fixed_coupon_carries_its_unused_balance_to_the_next_invoice():
    # given $60 off once on a $49-a-month plan without usage
    subscription = subscribe(plan_version(charges={}), started_at=JAN_1)
    applied = coupon_apply(
        customer=subscription.customer, code=make_coupon("sixty", amount="60").code
    )

    # when January and February are billed
    (january,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    applied.refresh_from_db()
    balance_after_january = (applied.amount_remaining, applied.status)
    (february,) = subscription_bill_due(subscription_id=subscription.pk, now=MAR_1)

    # then January is free, $11 is carried and taken off February, and the coupon is used up
    assert _lines(january) == [("base_fee", Decimal("49.00")), ("coupon", Decimal("-49.00"))]
    assert balance_after_january == (Decimal("11.0000"), "active")
    assert _lines(february) == [("base_fee", Decimal("49.00")), ("coupon", Decimal("-11.00"))]
    assert february.total == Decimal("38.00")
    applied.refresh_from_db()
    assert (applied.amount_remaining, applied.status) == (Decimal("0.0000"), "used_up")
    assert list(CouponRedemption.objects.order_by("pk").values_list("invoice_id", "amount")) == [
        (january.pk, Decimal("49.0000")),
        (february.pk, Decimal("11.0000")),
    ]


def test_drafts_and_previews_do_not_consume_and_finalizing_redeems_once():
    # given a plan with a grace period and a once-only 20 % coupon
    version = plan_version(charges={}, invoice_grace_days=3)
    subscription = subscribe(version, started_at=JAN_1)
    applied = coupon_apply(
        customer=subscription.customer, code=make_coupon("twenty", percentage="20").code
    )

    # when the preview is read, the draft made and recomputed twice
    preview = running_period_get(subscription=subscription, now=utc(2026, 1, 20))
    (draft,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    invoice_recompute(invoice=draft, now=FEB_1)
    invoice_recompute(invoice=draft, now=FEB_1)
    applied.refresh_from_db()

    # then all show the discount and nothing is consumed
    assert [line.amount for line in preview.lines if line.kind == "coupon"] == [Decimal("-9.80")]
    assert draft.lines.get(kind="coupon").amount == Decimal("-9.80")
    assert (applied.periods_remaining, applied.status) == (1, "active")
    assert not CouponRedemption.objects.exists()

    # when it is finalized, and finalization is attempted again
    assert drafts_finalize(invoice_ids=[draft.pk], now=utc(2026, 2, 4, 1)) == 1
    assert drafts_finalize(invoice_ids=[draft.pk], now=utc(2026, 2, 4, 2)) == 0

    # then the coupon is redeemed exactly once
    applied.refresh_from_db()
    assert (applied.periods_remaining, applied.status) == (0, "used_up")
    assert CouponRedemption.objects.get().amount == Decimal("9.8000")


def test_voiding_an_invoice_gives_its_coupon_back_once():
    # given $40 once, all taken by January's $49 invoice
    subscription = subscribe(plan_version(charges={}), started_at=JAN_1)
    applied = coupon_apply(
        customer=subscription.customer, code=make_coupon("forty", amount="40").code
    )
    (january,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    applied.refresh_from_db()
    assert (applied.amount_remaining, applied.status) == (Decimal("0.0000"), "used_up")

    # when the invoice is voided, and voiding is attempted again
    invoice_void(invoice=january, reason="Billed by mistake")
    with pytest.raises(ConflictError):
        invoice_void(invoice=january, reason="Again")

    # then the balance is $40 again, once, and the redemption says when it was given back
    applied.refresh_from_db()
    assert (applied.amount_remaining, applied.status) == (Decimal("40.0000"), "active")
    assert CouponRedemption.objects.get().restored_at is not None


def test_a_coupon_redeemed_by_another_invoice_since_the_draft_is_computed_again_on_finalize():
    # given two drafts of two subscriptions of one customer, both showing the once-only $30
    version = plan_version(charges={}, invoice_grace_days=3)
    first = subscribe(version, started_at=JAN_1, external_id="sub-1")
    second = subscribe(
        plan_version("team", charges={}, invoice_grace_days=3),
        started_at=JAN_1,
        customer_id="acme",
        external_id="sub-2",
    )
    coupon_apply(customer=first.customer, code=make_coupon("thirty", amount="30").code)
    (one,) = subscription_bill_due(subscription_id=first.pk, now=FEB_1)
    (two,) = subscription_bill_due(subscription_id=second.pk, now=FEB_1)
    assert one.lines.get(kind="coupon").amount == two.lines.get(kind="coupon").amount

    # when both are finalized without a recompute asked for
    invoice_finalize(invoice=one, now=utc(2026, 2, 4, 1), recompute=False)
    invoice_finalize(invoice=two, now=utc(2026, 2, 4, 1), recompute=False)

    # then the coupon is given once: $30 on the first, nothing on the second
    assert one.lines.get(kind="coupon").amount == Decimal("-30.00")
    assert not two.lines.filter(kind=InvoiceLine.Kind.COUPON).exists()
    assert AppliedCoupon.objects.get().status == "used_up"
