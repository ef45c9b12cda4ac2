"""Credits on invoices: applied after the plan's included units in burn order, read (not burned)
while the invoice is a draft, burned once when it is finalized, given back when it is voided."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from billing_site.core.exceptions import ConflictError
from credits.models import CreditLedgerEntry
from credits.selectors import credit_balance_get
from credits.services import credit_definition_set, credit_grant_create, credits_consume
from invoices.models import Invoice, InvoiceStatus
from invoices.services import (
    billing_batch_run,
    drafts_finalize,
    invoice_finalize,
    invoice_void,
    subscription_bill_due,
)
from invoices.services.credits import invoice_credits_reverse, invoice_credits_settle
from plans.models import Feature
from plans.services import plan_feature_set, plan_version_publish
from tests.invoices.factories import (
    SEED_GRADUATED,
    plan_version,
    send_tokens,
    subscribe,
    tokens_metric,
    utc,
)
from tests.plans.factories import make_feature, make_plan, make_version

pytestmark = pytest.mark.django_db

JAN_1 = utc(2026, 1, 1)
FEB_1 = utc(2026, 2, 1, 0, 5)
CONSUME = CreditLedgerEntry.Kind.CONSUME
# The last moment of January: invoice burns are booked then, before February's refill.
JAN_END = utc(2026, 2, 1) - timedelta(microseconds=1)


def lines_of(invoice: Invoice) -> list[tuple[str, str, Decimal]]:
    return [(line.kind, line.description, line.amount) for line in invoice.lines.all()]


def quota_feature() -> Feature:
    return make_feature("token-quota", kind="metered", metric=tokens_metric())


def allowance_plan(*, grace_days: int = 0, visible: bool = True):
    """The seed's allowance + overage: 0.05 per token, 10,000 tokens of credits each month."""
    feature = quota_feature()
    version = make_version(
        make_plan("allowance"),
        base_fee=Decimal("0"),
        charges={"tokens": ("standard", {"amount": "0.05"})},
        invoice_grace_days=grace_days,
    )
    credit_definition_set(
        version=version,
        feature=feature,
        initial_amount=Decimal(10000),
        refill_amount=Decimal(10000),
        renew_on_billing=True,
        billing_visible=visible,
    )
    return plan_version_publish(version=version), feature


def consumed(feature: Feature) -> list[tuple[int, Decimal]]:
    return list(
        CreditLedgerEntry.objects.filter(feature=feature, kind=CONSUME)
        .order_by("id")
        .values_list("grant_id", "amount")
    )


def balance(customer_id: int, feature: Feature, at=JAN_END) -> Decimal:
    return credit_balance_get(customer=customer_id, feature=feature, at=at).total


def test_visible_allowance_shows_a_negative_credits_line_and_bills_only_the_overage():
    # given the allowance plan and 12,500 tokens in January
    version, feature = allowance_plan()
    subscription = subscribe(version, started_at=JAN_1)
    send_tokens("acme", 12500, at=utc(2026, 1, 10))

    # when January is billed (no grace days: finalized at once)
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then 12,500 x 0.05 = 625.00, less 10,000 x 0.05 = 500.00 of credits: 125.00 to pay
    invoice.refresh_from_db()
    assert lines_of(invoice) == [
        ("usage", "Tokens", Decimal("625.00")),
        ("credit", "Credits: 10000 units of Tokens", Decimal("-500.00")),
    ]
    assert (invoice.total, invoice.status) == (Decimal("125.00"), InvoiceStatus.FINALIZED)
    # and the January grant was burned whole, once
    assert [amount for _, amount in consumed(feature)] == [Decimal(-10000)]
    assert balance(subscription.customer_id, feature) == Decimal(0)


def test_invisible_allowance_bills_fewer_units_and_says_so_in_the_breakdown():
    version, _ = allowance_plan(visible=False)
    subscription = subscribe(version, started_at=JAN_1)
    send_tokens("acme", 12500, at=utc(2026, 1, 10))

    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    (line,) = invoice.lines.all()
    assert (line.kind, line.quantity, line.amount) == ("usage", Decimal(2500), Decimal("125.00"))
    assert line.breakdown["credited_units"] == "10000"
    assert line.breakdown["formula"] == (
        "12500 units - 10000 covered by credits = 2500 billed; 625 - 500 = 125"
    )


def test_included_units_come_first_then_two_grants_in_priority_and_expiry_order():
    # given graduated tokens (1,000 at 0.02 then 0.01), 500 tokens included by the plan, and three
    # grants: 300 invisible at priority 10, 100 visible expiring mid-February, 1,000 lifetime
    feature = quota_feature()
    version = make_version(
        make_plan("hybrid"),
        base_fee=Decimal("0"),
        charges={"tokens": ("graduated", SEED_GRADUATED)},
    )
    plan_feature_set(version=version, feature=feature, limit=Decimal(500), cap="soft")
    version = plan_version_publish(version=version)
    subscription = subscribe(version, started_at=JAN_1)
    customer = subscription.customer

    def give(amount: int, **kwargs):
        return credit_grant_create(
            customer=customer,
            feature=feature,
            amount=Decimal(amount),
            source="manual",
            reason="goodwill",
            effective_at=JAN_1,
            **kwargs,
        )

    lifetime = give(1000, priority=50)
    soon = give(100, priority=50, expires_at=utc(2026, 2, 15))
    first = give(300, priority=10, expires_at=utc(2026, 3, 1), billing_visible=False)
    send_tokens("acme", 2000, at=utc(2026, 1, 10))

    # when January is billed
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then usage 2,000 = 30.00; units 501-800 (300 x 0.02 = 6.00) lower the usage line, units
    # 801-900 (2.00) and 901-1900 (100 x 0.02 + 900 x 0.01 = 11.00) are credit lines; the 500
    # included units (10.00) and units 1901-2000 (1.00) are billed
    assert lines_of(invoice) == [
        ("usage", "Tokens", Decimal("24.00")),
        ("credit", "Credits: 100 units of Tokens", Decimal("-2.00")),
        ("credit", "Credits: 1000 units of Tokens", Decimal("-11.00")),
    ]
    assert invoice.total == Decimal("11.00")
    assert consumed(feature) == [
        (first.pk, Decimal(-300)),
        (soon.pk, Decimal(-100)),
        (lifetime.pk, Decimal(-1000)),
    ]
    assert balance(customer.pk, feature) == Decimal(0)


def test_a_draft_reads_credits_and_finalization_burns_them_once():
    # given three grace days: January's invoice stays a draft until Feb 4
    version, feature = allowance_plan(grace_days=3)
    subscription = subscribe(version, started_at=JAN_1)
    send_tokens("acme", 4000, at=utc(2026, 1, 10))
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then the draft shows the credits but the ledger has not moved
    assert lines_of(invoice)[1] == ("credit", "Credits: 4000 units of Tokens", Decimal("-200.00"))
    assert (invoice.status, invoice.total) == (InvoiceStatus.DRAFT, Decimal("0.00"))
    assert consumed(feature) == []

    # when the grace period ends, the drafts are finalized twice and billing runs again
    drafts_finalize(invoice_ids=[invoice.pk], now=utc(2026, 2, 4, 1))
    drafts_finalize(invoice_ids=[invoice.pk], now=utc(2026, 2, 4, 1))
    subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 2, 4, 1))
    invoice.refresh_from_db()
    invoice_credits_settle(invoice=invoice)
    with pytest.raises(ConflictError), transaction.atomic():
        invoice_finalize(invoice=invoice, now=utc(2026, 2, 4, 2))

    # then 4,000 tokens were burned exactly once, and 6,000 of January's grant are left
    assert invoice.status == InvoiceStatus.PAID  # nothing to pay
    assert [amount for _, amount in consumed(feature)] == [Decimal(-4000)]
    assert balance(subscription.customer_id, feature) == Decimal(6000)


def test_voiding_a_finalized_invoice_gives_its_credits_back_once():
    # given a finalized January invoice that burned 10,000 tokens of credits
    version, feature = allowance_plan()
    subscription = subscribe(version, started_at=JAN_1)
    send_tokens("acme", 12500, at=utc(2026, 1, 10))
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    assert balance(subscription.customer_id, feature) == Decimal(0)
    # (today: January's grant is spent, February's refill of 10,000 is whole)
    assert balance(subscription.customer_id, feature, at=timezone.now()) == Decimal(10000)

    # when it is voided (and the reversal is asked again)
    invoice_void(invoice=invoice, reason="Billed in error")
    again = invoice_credits_reverse(invoice=invoice, reason="Billed in error")

    # then January's 10,000 are back beside February's, through one void row
    assert balance(subscription.customer_id, feature, at=timezone.now()) == Decimal(20000)
    assert again == Decimal(0)
    voids = CreditLedgerEntry.objects.filter(feature=feature, kind=CreditLedgerEntry.Kind.VOID)
    assert list(voids.values_list("amount", flat=True)) == [Decimal(10000)]


def test_credits_burned_in_real_time_are_not_burned_again_by_the_invoice():
    # given 3,000 tokens of January usage already covered in real time by a consume
    version, feature = allowance_plan()
    subscription = subscribe(version, started_at=JAN_1)
    credits_consume(
        customer=subscription.customer,
        feature=feature,
        quantity=Decimal(3000),
        reference="consume:job-1",
        at=utc(2026, 1, 9),
        period_start=JAN_1,
        period_end=utc(2026, 2, 1),
    )
    send_tokens("acme", 3000, 9000, at=utc(2026, 1, 10))

    # when January is billed
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then the credit lines cover 3,000 (already burned) + 7,000 (burned now) of 12,000 tokens
    assert lines_of(invoice) == [
        ("usage", "Tokens", Decimal("600.00")),
        ("credit", "Credits: 3000 units of Tokens", Decimal("-150.00")),
        ("credit", "Credits: 7000 units of Tokens", Decimal("-350.00")),
    ]
    assert [amount for _, amount in consumed(feature)] == [Decimal(-3000), Decimal(-7000)]
    assert balance(subscription.customer_id, feature) == Decimal(0)


def test_late_usage_after_invisible_credits_bills_only_the_late_units():
    # given January finalized: 12,500 tokens, 10,000 covered by invisible credits, 125.00 billed
    version, _ = allowance_plan(visible=False)
    subscription = subscribe(version, started_at=JAN_1)
    send_tokens("acme", 12500, at=utc(2026, 1, 10))
    (january,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # when 100 January tokens arrive on Feb 10 and February (no usage) is billed
    send_tokens("acme", 100, at=utc(2026, 1, 20), received_at=utc(2026, 2, 10))
    (february,) = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 3, 1, 1))

    # then the adjustment is the 100 late tokens (5.00), not the credits January applied
    assert [(line.kind, line.amount) for line in february.lines.all()] == [
        ("usage", Decimal("0.00")),
        ("adjustment", Decimal("5.00")),
    ]
    assert february.lines.get(kind="adjustment").source_invoice_id == january.pk


def test_finalizing_a_stale_draft_applies_only_the_credits_left_and_burns_exactly_those():
    # given a January draft applying 4,000 tokens of credits
    version, feature = allowance_plan(grace_days=3)
    subscription = subscribe(version, started_at=JAN_1)
    send_tokens("acme", 4000, at=utc(2026, 1, 10))
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    assert invoice.total == Decimal("0.00")
    # and 9,000 of the grant spent since, in real time, before January ended
    credits_consume(
        customer=subscription.customer,
        feature=feature,
        quantity=Decimal(9000),
        reference="consume:february-job",
        at=utc(2026, 1, 31, 12),
        period_start=utc(2026, 2, 1),
        period_end=utc(2026, 3, 1),
    )

    # when the draft is finalized without being asked to recompute
    invoice = invoice_finalize(invoice=invoice, now=utc(2026, 2, 4, 1), recompute=False)

    # then it applies the 1,000 left (50.00), bills the rest (150.00) and burns exactly 1,000
    assert lines_of(invoice)[1] == ("credit", "Credits: 1000 units of Tokens", Decimal("-50.00"))
    assert invoice.total == Decimal("150.00")
    invoice_burns = CreditLedgerEntry.objects.filter(kind=CONSUME, reference__startswith="invoice:")
    assert list(invoice_burns.values_list("amount", flat=True)) == [Decimal(-1000)]
    assert balance(subscription.customer_id, feature) == Decimal(0)


def test_a_batch_applies_credits_only_to_the_customers_that_have_them():
    # given acme on the allowance plan and bare on the same prices without credits
    version, feature = allowance_plan()
    acme = subscribe(version, "acme", started_at=JAN_1)
    no_credits = plan_version(
        "payg", base_fee="0", charges={"tokens": ("standard", {"amount": "0.05"})}
    )
    bare = subscribe(no_credits, "bare", started_at=JAN_1)
    send_tokens("acme", 12500, at=utc(2026, 1, 10))
    send_tokens("bare", 12500, at=utc(2026, 1, 10))

    # when both are billed in one batch
    billing_batch_run(run_id=None, subscription_ids=[acme.pk, bare.pk], now=FEB_1)

    # then acme's invoice applies its credits and bare's bills every token
    acme_invoice = Invoice.objects.get(subscription=acme)
    bare_invoice = Invoice.objects.get(subscription=bare)
    assert (acme_invoice.total, bare_invoice.total) == (Decimal("125.00"), Decimal("625.00"))
    assert [amount for _, amount in consumed(feature)] == [Decimal(-10000)]
