"""Pay-in-advance charges: each accepted event (or each rise of a sum's or unique count's
high-water mark) makes one fee at once, priced like the period-end line would, exactly once."""

from decimal import Decimal

import pytest
import time_machine
from django.db.models import Max, Min

from invoices.advance.models import AdvanceFee, AdvanceFeeCursor, AdvanceFeeState
from invoices.advance.services import advance_fees_create, advance_fees_create_for_metric
from invoices.models import Invoice
from invoices.services import subscription_bill_due
from metering.models import Event
from metering.services import usage_events_ingest
from plans.services import subscription_change_plan
from tests.invoices.advance.builders import advance_plan, send, tokens
from tests.invoices.factories import SEED_GRADUATED, subscribe, utc
from tests.plans.factories import make_metric, make_plan, make_version

pytestmark = pytest.mark.django_db

JAN_10 = utc(2026, 1, 10)
NOW = utc(2026, 1, 10, 12)


def fees() -> list[tuple[str, Decimal, Decimal, Decimal]]:
    return [
        (fee.customer.external_id, fee.units, fee.amount_precise.normalize(), fee.amount)
        for fee in AdvanceFee.objects.select_related("customer").order_by("event_id")
    ]


def test_a_standard_charge_makes_one_fee_per_event_rounded_to_the_cent():
    # given 0.0125 a token, paid in advance, and two events
    subscribe(advance_plan(tokens(), "standard", {"amount": "0.0125"}), started_at=utc(2026, 1, 1))
    send("acme", "tokens", {"tokens": 100}, {"tokens": 7}, at=JAN_10)

    # when the fee task runs
    created = advance_fees_create(now=NOW)

    # then one fee per event: exact amount kept, rounded half-up to the cent
    assert created == 2
    assert fees() == [
        ("acme", Decimal(100), Decimal("1.25"), Decimal("1.25")),
        ("acme", Decimal(7), Decimal("0.0875"), Decimal("0.09")),
    ]
    fee = AdvanceFee.objects.order_by("event_id").first()
    assert (fee.period_start, fee.period_end) == (utc(2026, 1, 1), utc(2026, 2, 1))


def test_graduated_fees_continue_from_the_periods_running_total():
    # given the seed's graduated tokens (0-1000 at 0.02, 1001-10000 at 0.01, then 0.005)
    subscribe(advance_plan(tokens(), "graduated", SEED_GRADUATED), started_at=utc(2026, 1, 1))
    send("acme", "tokens", {"tokens": 800}, {"tokens": 700}, {"tokens": 9000}, at=JAN_10)

    advance_fees_create(now=NOW)

    # then 800 x 0.02; 200 x 0.02 + 500 x 0.01; 8500 x 0.01 + 500 x 0.005
    assert [amount for *_, amount in fees()] == [
        Decimal("16.00"),
        Decimal("9.00"),
        Decimal("87.50"),
    ]
    # and together they are the period-end price of 10,500 tokens
    assert sum(amount for *_, amount in fees()) == Decimal("112.50")
    second = AdvanceFee.objects.order_by("event_id")[1]
    rows = second.breakdown["breakdown"]
    assert [(row["label"], row["units"], row["amount"]) for row in rows] == [
        ("0 – 1,000", "200", "4.00"),
        ("1,001 – 10,000", "500", "5.00"),
    ]


def test_a_sum_bills_only_rises_above_its_high_water_mark():
    # given a sum that goes 10, 6, 10, 13 in the period
    subscribe(advance_plan(tokens(), "standard", {"amount": "1"}), started_at=utc(2026, 1, 1))
    send(
        "acme",
        "tokens",
        {"tokens": 10},
        {"tokens": -4},
        {"tokens": 4},
        {"tokens": 3},
        at=JAN_10,
    )

    advance_fees_create(now=NOW)

    # then 10 is billed, then only the 3 above it
    assert [(units, amount) for _, units, _, amount in fees()] == [
        (Decimal(10), Decimal("10.00")),
        (Decimal(3), Decimal("3.00")),
    ]
    state = AdvanceFeeState.objects.get()
    assert (state.total, state.high_water) == (Decimal(13), Decimal(13))


def test_a_unique_value_removed_and_added_again_is_billed_once():
    # given a unique count of users at 5.00 each
    users = make_metric("users", aggregation="unique_count", field_name="user_id")
    subscribe(advance_plan(users, "standard", {"amount": "5"}), started_at=utc(2026, 1, 1))
    send(
        "acme",
        "users",
        {"user_id": "ann"},
        {"user_id": "ann", "operation_type": "remove"},
        {"user_id": "ann"},
        {"user_id": "ann"},
        {"user_id": "bob"},
        at=JAN_10,
    )

    advance_fees_create(now=NOW)

    # then ann once, bob once
    assert [amount for *_, amount in fees()] == [Decimal("5.00"), Decimal("5.00")]


def test_a_duplicate_event_and_a_second_run_make_no_second_fee():
    # given one event, sent twice
    subscribe(advance_plan(tokens(), "standard", {"amount": "0.5"}), started_at=utc(2026, 1, 1))
    send("acme", "tokens", {"tokens": 4}, at=JAN_10, transaction_id="once")
    advance_fees_create(now=NOW)
    resend = usage_events_ingest(
        events=[
            {
                "transaction_id": "once",
                "customer_id": "acme",
                "code": "tokens",
                "timestamp": JAN_10.isoformat(),
                "properties": {"tokens": 4},
            }
        ]
    )

    # when the task runs again, twice
    advance_fees_create(now=NOW)
    advance_fees_create(now=NOW)

    # then the resend was a duplicate and there is still one fee of 2.00
    assert resend.outcomes[0].status == "duplicate"
    assert fees() == [("acme", Decimal(4), Decimal(2), Decimal("2.00"))]


def test_events_of_customers_without_the_charge_in_advance_make_no_fee():
    # given acme pays tokens in advance; zeta has no subscription at all
    subscribe(advance_plan(tokens(), "standard", {"amount": "1"}), started_at=utc(2026, 1, 1))
    send("zeta", "tokens", {"tokens": 5}, at=JAN_10)
    send("acme", "tokens", {"tokens": 2}, at=utc(2025, 12, 31))  # before acme's subscription

    assert advance_fees_create(now=NOW) == 0
    assert not AdvanceFee.objects.exists()


def test_the_period_end_invoice_does_not_bill_the_charge_again():
    # given a 49.00 plan whose tokens are paid in advance, with usage in January
    version = advance_plan(tokens(), "standard", {"amount": "1"}, base_fee="49.00")
    subscription = subscribe(version, started_at=utc(2026, 1, 1))
    send("acme", "tokens", {"tokens": 12}, at=JAN_10)
    advance_fees_create(now=NOW)

    # when January is billed at its end
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 2, 1, 0, 5))

    # then the period invoice has the base fee only; the tokens were billed once, as a fee
    assert [(line.kind, line.amount) for line in invoice.lines.all()] == [
        ("base_fee", Decimal("49.00"))
    ]
    assert invoice.total == Decimal("49.00")
    assert fees() == [("acme", Decimal(12), Decimal(12), Decimal("12.00"))]
    assert Invoice.objects.count() == 1


def test_events_read_in_small_id_chunks_give_the_same_fees_as_one_pass():
    # given graduated tokens and three events
    subscribe(advance_plan(tokens(), "graduated", SEED_GRADUATED), started_at=utc(2026, 1, 1))
    send("acme", "tokens", {"tokens": 800}, {"tokens": 700}, {"tokens": 9000}, at=JAN_10)
    ids = Event.objects.aggregate(low=Min("id"), top=Max("id"))
    upto = ids["top"]
    # (ids run on across the suite: the cursor starts just below this test's events)
    AdvanceFeeCursor.objects.create(metric=tokens(), last_event_id=ids["low"] - 1)

    # when the metric is read one event id per transaction
    passes = 0
    more = True
    while more:
        _, more = advance_fees_create_for_metric(metric=tokens(), upto=upto, now=NOW, chunk=1)
        passes += 1

    # then the running total carried across the chunks
    assert passes == 3
    assert [amount for *_, amount in fees()] == [
        Decimal("16.00"),
        Decimal("9.00"),
        Decimal("87.50"),
    ]
    assert AdvanceFeeCursor.objects.get().last_event_id == upto


def test_after_a_mid_period_move_to_a_plan_paid_in_advance_only_later_events_are_fees():
    # given tokens at 1.00 in arrears from Jan 1, moved on Jan 21 to a version charging them
    # in advance; 5 tokens on Jan 10 and 3 on Jan 25
    tokens()
    arrears = make_version(
        make_plan("arrears"),
        publish=True,
        base_fee=Decimal(0),
        charges={"tokens": ("standard", {"amount": "1"})},
    )
    subscription = subscribe(arrears, started_at=utc(2026, 1, 1))
    in_advance = advance_plan(tokens(), "standard", {"amount": "1"})
    with time_machine.travel(utc(2026, 1, 21), tick=False):
        subscription_change_plan(
            subscription=subscription,
            plan=in_advance.plan,
            version_number=in_advance.number,
            timing="immediately",
        )
    send("acme", "tokens", {"tokens": 5}, at=JAN_10)
    send("acme", "tokens", {"tokens": 3}, at=utc(2026, 1, 25))

    # when fees are made and then January is billed
    advance_fees_create(now=utc(2026, 1, 26))
    (invoice,) = subscription_bill_due(subscription_id=subscription.pk, now=utc(2026, 2, 1, 0, 5))

    # then the Jan 25 event is a fee, and the Jan 10 one is on the period invoice, each once
    assert fees() == [("acme", Decimal(3), Decimal(3), Decimal("3.00"))]
    assert [(line.kind, line.quantity) for line in invoice.lines.all()] == [("usage", 5)]


def test_a_customer_billed_in_arrears_for_the_same_metric_gets_no_fee():
    # given acme pays tokens in advance, zeta pays them in arrears on another plan
    subscribe(advance_plan(tokens(), "standard", {"amount": "1"}), started_at=utc(2026, 1, 1))
    arrears = make_version(
        make_plan("arrears"),
        publish=True,
        base_fee=Decimal(0),
        charges={"tokens": ("standard", {"amount": "1"})},
    )
    zeta = subscribe(arrears, "zeta", started_at=utc(2026, 1, 1), external_id="sub-zeta")
    send("acme", "tokens", {"tokens": 2}, at=JAN_10)
    send("zeta", "tokens", {"tokens": 5}, at=JAN_10)

    advance_fees_create(now=NOW)
    (invoice,) = subscription_bill_due(subscription_id=zeta.pk, now=utc(2026, 2, 1, 0, 5))

    # then only acme has a fee; zeta's tokens are on its period invoice
    assert fees() == [("acme", Decimal(2), Decimal(2), Decimal("2.00"))]
    assert [(line.kind, line.amount) for line in invoice.lines.all()] == [
        ("usage", Decimal("5.00"))
    ]
