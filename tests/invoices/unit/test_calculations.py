"""Pure invoice arithmetic: proration, trials, usage lines, minimums, credits, adjustments."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoices.calculations import (
    BilledSoFar,
    ChargeUsage,
    Window,
    adjustment_lines,
    base_fee_line,
    charge_lines,
    days_between,
    invoice_total,
    proration_ratio,
)
from invoices.credit_math import CreditUnits, credits_apply

SEED_GRADUATED = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 1000, "per_unit_amount": "0.02", "flat_amount": "0"},
        {"from_value": 1001, "to_value": 10000, "per_unit_amount": "0.01", "flat_amount": "0"},
        {"from_value": 10001, "to_value": None, "per_unit_amount": "0.005", "flat_amount": "0"},
    ]
}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


JANUARY = Window(utc(2026, 1, 1), utc(2026, 2, 1), utc(2026, 1, 1), utc(2026, 2, 1))


def usage(units: str, **kwargs) -> ChargeUsage:
    fields = {
        "charge_id": 7,
        "version_id": 3,
        "metric_code": "api-calls",
        "description": "API calls",
        "charge_model": "graduated",
        "properties": SEED_GRADUATED,
        "min_amount": None,
        "units": Decimal(units),
        "event_count": 12,
        "events_digest": "abc",
    }
    return ChargeUsage(**(fields | kwargs))


def test_calendar_month_started_on_the_15th_bills_17_of_31_days():
    # given a calendar-monthly plan of 100 started on Jan 15 at 09:00
    window = Window(utc(2026, 1, 15, 9), utc(2026, 2, 1), utc(2026, 1, 1), utc(2026, 2, 1))

    # when the base fee is billed
    line = base_fee_line(
        fee=Decimal("100"), currency="USD", window=window, trial_ends_at=None, description="Fee"
    )

    # then it is 100 x 17/31, rounded once, and says so
    assert line.amount == Decimal("54.84")
    assert line.amount_precise == Decimal("54.83870967741935483871")
    assert line.breakdown["formula"] == "100 x 17/31"
    assert line.description == "Fee (17 of 31 days)"


def test_full_period_bills_the_whole_fee_without_proration():
    line = base_fee_line(
        fee=Decimal("49.00"), currency="USD", window=JANUARY, trial_ends_at=None, description="F"
    )
    assert line.amount == Decimal("49.00")
    assert "formula" not in line.breakdown


@pytest.mark.parametrize(
    ("_case", "trial_ends_at", "expected"),
    [
        ("trial covers the period", utc(2026, 2, 10), None),
        ("trial ends on the 11th: 21 of 31 days", utc(2026, 1, 11, 9), Decimal("33.87")),
        ("trial ended before", utc(2025, 12, 20), Decimal("50.00")),
    ],
)
def test_trial_days_are_not_billed(_case, trial_ends_at, expected):
    line = base_fee_line(
        fee=Decimal("50"),
        currency="USD",
        window=JANUARY,
        trial_ends_at=trial_ends_at,
        description="F",
    )
    assert (line.amount if line else None) == expected


def test_days_add_up_across_adjacent_windows():
    # given a period split at a time of day
    start, cut, end = utc(2026, 1, 15, 9), utc(2026, 1, 20, 17), utc(2026, 2, 15, 9)

    # then the days of the parts add up to the days of the whole
    assert days_between(start, cut) + days_between(cut, end) == days_between(start, end) == 31


def test_usage_line_keeps_the_tier_breakdown_event_count_and_digest():
    # given 12,000 API calls on the seed's graduated tiers
    lines = charge_lines(usages=[usage("12000")], currency="USD", window=JANUARY)

    # then one line: 1000 x 0.02 + 9000 x 0.01 + 2000 x 0.005 = 120
    (line,) = lines
    assert line.kind == "usage"
    assert line.amount == Decimal("120.00")
    assert [row["amount"] for row in line.breakdown["breakdown"]] == ["20.00", "90.00", "10.000"]
    assert (line.event_count, line.events_digest, line.charge_id) == (12, "abc", 7)


def test_minimum_true_up_is_its_own_line_and_absent_when_usage_reaches_it():
    # given a charge with a 50 minimum
    short = charge_lines(
        usages=[usage("500", min_amount=Decimal("50"))], currency="USD", window=JANUARY
    )
    enough = charge_lines(
        usages=[usage("6000", min_amount=Decimal("50"))], currency="USD", window=JANUARY
    )

    # then 500 calls (10.00) get a 40.00 true-up, 6000 calls (70.00) none
    assert [(line.kind, line.amount) for line in short] == [
        ("usage", Decimal("10.00")),
        ("minimum", Decimal("40.00")),
    ]
    assert [line.kind for line in enough] == ["usage"]


def test_minimum_is_prorated_on_a_partial_period():
    window = Window(utc(2026, 1, 15), utc(2026, 2, 1), utc(2026, 1, 1), utc(2026, 2, 1))
    lines = charge_lines(
        usages=[usage("0", min_amount=Decimal("31"))], currency="USD", window=window
    )
    assert [(line.kind, line.amount) for line in lines] == [
        ("usage", Decimal("0.00")),
        ("minimum", Decimal("17.00")),
    ]


def test_lines_round_once_half_up_and_the_total_is_their_sum():
    # given three standard charges of 0.005 each unit: 1 unit costs 0.005 -> 0.01
    usages = [
        usage("1", charge_id=n, charge_model="standard", properties={"amount": "0.005"})
        for n in (1, 2, 3)
    ]
    lines = charge_lines(usages=usages, currency="USD", window=JANUARY)

    # then each line rounds up on its own and the total adds the rounded lines (0.03, not 0.02)
    assert [line.amount for line in lines] == [Decimal("0.01")] * 3
    assert invoice_total(lines) == Decimal("0.03")


def test_visible_credits_cover_the_first_units_as_a_negative_line_in_burn_order():
    # given 1,500 calls and two grants: 400 then 1,000 units, visible
    usages = [usage("1500")]
    lines = charge_lines(usages=usages, currency="USD", window=JANUARY)
    credits = [
        CreditUnits(1, "api-calls", Decimal("400"), True, "Monthly allowance"),
        CreditUnits(2, "api-calls", Decimal("1000"), True, "Top-up"),
    ]

    # when credits are applied
    applied = credits_apply(usages=usages, lines=lines, credits=credits, currency="USD")

    # then 400 units (8.00) and 1000 units (0-1000 tier rest 12.00 + 400 at 0.01 = 4.00 -> 16.00)
    assert [(line.kind, line.amount) for line in applied.lines] == [
        ("usage", Decimal("25.00")),
        ("credit", Decimal("-8.00")),
        ("credit", Decimal("-16.00")),
    ]
    assert [(use.grant_id, use.units) for use in applied.uses] == [
        (1, Decimal("400")),
        (2, Decimal("1000")),
    ]
    assert invoice_total(applied.lines) == Decimal("1.00")


def test_invisible_credits_lower_the_usage_line_and_other_metrics_are_untouched():
    usages = [usage("100", charge_model="standard", properties={"amount": "0.10"})]
    lines = charge_lines(usages=usages, currency="USD", window=JANUARY)
    credits = [
        CreditUnits(1, "storage", Decimal("50"), True, "Other metric"),
        CreditUnits(2, "api-calls", Decimal("30"), False, "Hidden"),
    ]
    applied = credits_apply(usages=usages, lines=lines, credits=credits, currency="USD")
    (line,) = applied.lines
    assert line.amount == Decimal("7.00")
    assert line.breakdown["credited_amount"] == "3.00"
    assert [use.grant_id for use in applied.uses] == [2]


def test_adjustment_bills_only_the_difference_to_what_was_billed():
    # given a finalized period billed 100 calls at 0.10 and 3 late calls arrived since
    usages = [usage("103", charge_model="standard", properties={"amount": "0.10"}, event_count=4)]
    billed = [BilledSoFar(9, 7, "", "api-calls", Decimal("10.00"), 1)]

    # when adjustments are computed
    lines = adjustment_lines(
        usages=usages,
        billed=billed,
        source_invoice_id=9,
        currency="USD",
        window=JANUARY,
        period_label="INV-2026-000001",
    )

    # then one line of 0.30 for 3 events, pointing at the source invoice
    (line,) = lines
    assert (line.kind, line.amount, line.event_count, line.source_invoice_id) == (
        "adjustment",
        Decimal("0.30"),
        3,
        9,
    )
    # and once billed, nothing more
    again = adjustment_lines(
        usages=usages,
        billed=[BilledSoFar(9, 7, "", "api-calls", Decimal("10.30"), 4)],
        source_invoice_id=9,
        currency="USD",
        window=JANUARY,
        period_label="x",
    )
    assert again == []


@given(
    fee=st.decimals(min_value=0, max_value=10_000, places=4),
    day=st.integers(min_value=1, max_value=31),
)
def test_prorated_fee_never_exceeds_the_fee_and_is_rounded_to_cents(fee, day):
    window = Window(utc(2026, 1, day), utc(2026, 2, 1), utc(2026, 1, 1), utc(2026, 2, 1))
    line = base_fee_line(
        fee=fee, currency="USD", window=window, trial_ends_at=None, description="F"
    )
    if line is None:
        assert fee == 0
        return
    assert Decimal(0) <= line.amount_precise <= fee
    assert line.amount == line.amount.quantize(Decimal("0.01"))
    assert abs(line.amount - line.amount_precise) <= Decimal("0.005")
    ratio = proration_ratio(window.start, window.end, window)
    assert abs(ratio * 31 - (32 - day)) < Decimal("1e-150")
