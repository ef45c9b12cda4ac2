"""Billing one subscription for its periods: the plan shapes of the seed guide to the cent,
proration and trial edges, idempotency, in-advance fees."""

from decimal import Decimal

import pytest
import time_machine

from invoices.models import Invoice, InvoiceStatus
from invoices.services import subscription_bill_due
from plans.services import (
    subscription_cancel,
    subscription_change_plan,
    subscription_override_create,
)
from tests.invoices.factories import plan_version, send_tokens, subscribe, utc
from tests.plans.factories import make_version

pytestmark = pytest.mark.django_db

FEB_1 = utc(2026, 2, 1, 0, 5)


def lines_of(invoice: Invoice) -> list[tuple[str, str, Decimal]]:
    return [(line.kind, line.description, line.amount) for line in invoice.lines.all()]


def test_hybrid_base_plus_graduated_overage_is_billed_to_the_cent_and_finalized():
    # given a 49.00 plan with graduated tokens, subscribed on Jan 1, and 12,000 tokens in January
    version = plan_version()
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    send_tokens("acme", 5000, 7000, at=utc(2026, 1, 10))
    send_tokens("acme", 999, at=utc(2026, 2, 1))  # next period: not billed now

    # when the period is billed after it ended
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then base fee + 1000 x 0.02 + 9000 x 0.01 + 2000 x 0.005, finalized with the first number
    invoice.refresh_from_db()
    assert lines_of(invoice) == [
        ("base_fee", "pro v1 base fee", Decimal("49.00")),
        ("usage", "Tokens", Decimal("120.00")),
    ]
    assert invoice.total == Decimal("169.00")
    assert (invoice.status, invoice.number) == (InvoiceStatus.FINALIZED, "INV-2026-000001")
    assert (invoice.period_start, invoice.period_end) == (utc(2026, 1, 1), utc(2026, 2, 1))
    usage = invoice.lines.get(kind="usage")
    assert (usage.event_count, len(usage.events_digest), usage.quantity) == (2, 32, 12000)
    # and the subscription moved to February
    subscription.refresh_from_db()
    assert subscription.current_period_start == utc(2026, 2, 1)


def test_billing_twice_makes_exactly_one_invoice():
    subscription = subscribe(plan_version(), started_at=utc(2026, 1, 1))
    first = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    second = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)
    assert (len(first), second) == (1, [])
    assert Invoice.objects.count() == 1


def test_trial_ending_mid_period_bills_the_rest_of_it():
    # given a 14-day trial on a 31.00 plan from Jan 1: the trial ends on Jan 15
    version = plan_version("trial", base_fee="31.00", trial_days=14, charges={})
    subscription = subscribe(version, started_at=utc(2026, 1, 1))

    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then 17 of 31 days
    assert lines_of(invoice) == [
        ("base_fee", "trial v1 base fee (17 of 31 days)", Decimal("17.00"))
    ]


def test_freemium_under_its_free_units_is_zero_and_paid_without_payment():
    version = plan_version(
        "free",
        base_fee="0",
        charges={"tokens": ("standard", {"amount": "0.01", "free_units": 1000})},
    )
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    send_tokens("acme", 800, at=utc(2026, 1, 3))

    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    invoice.refresh_from_db()
    assert lines_of(invoice) == [("usage", "Tokens", Decimal("0.00"))]
    assert (invoice.status, invoice.total) == (InvoiceStatus.PAID, Decimal("0.00"))
    assert invoice.paid_at == FEB_1


def test_pay_as_you_go_bills_usage_only():
    version = plan_version(
        "payg", base_fee="0", charges={"tokens": ("standard", {"amount": "0.0015"})}
    )
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    send_tokens("acme", 333, 1, at=utc(2026, 1, 3))

    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # 334 x 0.0015 = 0.501 -> 0.50
    assert lines_of(invoice) == [("usage", "Tokens", Decimal("0.50"))]
    assert invoice.lines.get().amount_precise == Decimal("0.501")


def test_calendar_plan_started_on_the_15th_bills_17_of_31_days():
    version = plan_version("cal", base_fee="100", charges={})
    subscription = subscribe(version, started_at=utc(2026, 1, 15, 9), billing_time="calendar")

    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    assert lines_of(invoice) == [("base_fee", "cal v1 base fee (17 of 31 days)", Decimal("54.84"))]


def test_minimum_true_up_on_its_own_line():
    version = plan_version("min", base_fee="0", charges={"tokens": ("standard", {"amount": "1"})})
    charge = version.charges.get()
    type(charge).objects.filter(pk=charge.pk).update(min_amount=Decimal("25"))
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    send_tokens("acme", 10, at=utc(2026, 1, 3))

    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    assert lines_of(invoice) == [
        ("usage", "Tokens", Decimal("10.00")),
        ("minimum", "Minimum spend true-up: Tokens", Decimal("15.00")),
    ]


def test_base_fee_in_advance_is_invoiced_at_the_start_and_not_again_at_the_end():
    # given a 20.00 in-advance plan with usage
    version = plan_version("adv", base_fee="20", base_fee_in_advance=True)
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    send_tokens("acme", 10, at=utc(2026, 1, 3))

    # when billed at the start, then after the period
    (advance,) = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 1, 1, 0, 1))
    period, next_advance = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then January's fee up front, January's usage at the end, February's fee up front
    assert (advance.kind, lines_of(advance)) == (
        "advance",
        [("base_fee", "adv v1 base fee (in advance)", Decimal("20.00"))],
    )
    assert (period.kind, lines_of(period)) == ("period", [("usage", "Tokens", Decimal("0.20"))])
    assert (next_advance.kind, next_advance.period_start) == ("advance", utc(2026, 2, 1))


def test_catch_up_bills_each_missed_period_once():
    subscription = subscribe(plan_version(charges={}), started_at=utc(2026, 1, 1))
    invoices = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 3, 2))
    assert [(i.period_start, i.total) for i in invoices] == [
        (utc(2026, 1, 1), Decimal("49.00")),
        (utc(2026, 2, 1), Decimal("49.00")),
    ]
    assert [i.number for i in Invoice.objects.order_by("period_start")] == [
        "INV-2026-000001",
        "INV-2026-000002",
    ]


def test_immediate_cancellation_bills_the_days_used_once():
    # given a 31.00 plan from Jan 1, canceled on Jan 11 at noon (10 whole days plus the 11th)
    version = plan_version("cancel", base_fee="31", charges={})
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    subscription_cancel(subscription=subscription, at_period_end=False)
    type(subscription).objects.filter(pk=subscription.pk).update(ended_at=utc(2026, 1, 11, 12))

    # when billed (twice)
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 1, 11, 13))
    again = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 1, 12))

    # then Jan 1 .. Jan 11 (the start day included, the end day not): 10 of 31 days
    assert lines_of(invoice) == [
        ("base_fee", "cancel v1 base fee (10 of 31 days)", Decimal("10.00"))
    ]
    assert invoice.period_end == utc(2026, 1, 11, 12)
    assert again == []


def test_plan_change_mid_period_bills_each_part_on_its_own_version():
    # given 31.00 "basic" from Jan 1, upgraded to 62.00 "basic" v2 on Jan 21
    basic = plan_version("basic", base_fee="31", charges={})
    subscription = subscribe(basic, started_at=utc(2026, 1, 1))
    upgraded = make_version(basic.plan, publish=True, base_fee=Decimal("62"))
    with time_machine.travel(utc(2026, 1, 21), tick=False):
        subscription_change_plan(
            subscription=subscription,
            plan=basic.plan,
            version_number=upgraded.number,
            timing="immediately",
        )

    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then 20 days of v1 (20.00) and 11 days of v2 (22.00)
    assert lines_of(invoice) == [
        ("base_fee", "basic v1 base fee (20 of 31 days)", Decimal("20.00")),
        ("base_fee", "basic v2 base fee (11 of 31 days)", Decimal("22.00")),
    ]


def test_an_override_starting_mid_period_bills_each_part_on_its_own_price():
    # given a 31.00 plan from Jan 1 with usage, and a 62.00 base fee plus half-price tokens
    # negotiated from Jan 21
    version = plan_version(
        "ovr", base_fee="31", charges={"tokens": ("standard", {"amount": "0.10"})}
    )
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    send_tokens("acme", 100, at=utc(2026, 1, 10))
    send_tokens("acme", 100, at=utc(2026, 1, 25))
    subscription_override_create(
        subscription=subscription,
        kind="base_fee",
        value={"amount": "62.00"},
        valid_from=utc(2026, 1, 21),
        reason="upgrade deal",
    )
    subscription_override_create(
        subscription=subscription,
        kind="charge",
        charge=version.charges.get(),
        value={"charge_model": "standard", "properties": {"amount": "0.05"}},
        valid_from=utc(2026, 1, 21),
        reason="upgrade deal",
    )

    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=FEB_1)

    # then 20 days at 31.00 with 100 tokens at 0.10, then 11 days at 62.00 with 100 at 0.05
    assert lines_of(invoice) == [
        ("base_fee", "ovr v1 base fee (20 of 31 days)", Decimal("20.00")),
        ("usage", "Tokens", Decimal("10.00")),
        ("base_fee", "ovr v1 base fee (11 of 31 days)", Decimal("22.00")),
        ("usage", "Tokens", Decimal("5.00")),
    ]
    assert invoice.total == Decimal("57.00")
