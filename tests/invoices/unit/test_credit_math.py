"""Credits applied to usage lines, pure: included units first, then grants in the order given,
covered units valued at the tiers they fall in, never more than a grant holds."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from invoices.calculations import ChargeUsage, Window, charge_lines, invoice_total, price_charge
from invoices.credit_math import CreditUnits, credits_apply

SEED_GRADUATED = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 1000, "per_unit_amount": "0.02", "flat_amount": "0"},
        {"from_value": 1001, "to_value": 10000, "per_unit_amount": "0.01", "flat_amount": "0"},
        {"from_value": 10001, "to_value": None, "per_unit_amount": "0.005", "flat_amount": "0"},
    ]
}
JANUARY = Window(
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 2, 1, tzinfo=UTC),
    datetime(2026, 1, 1, tzinfo=UTC),
    datetime(2026, 2, 1, tzinfo=UTC),
)


def usage(units: int, charge_id: int = 7, group_key: str = "") -> ChargeUsage:
    return ChargeUsage(
        charge_id=charge_id,
        version_id=3,
        metric_code="api-calls",
        description="API calls",
        charge_model="graduated",
        properties=SEED_GRADUATED,
        min_amount=None,
        units=Decimal(units),
        event_count=1,
        events_digest="abc",
        group_key=group_key,
    )


def test_included_units_are_not_covered_and_credits_are_valued_at_the_tier_after_them():
    # given 1,500 calls, 900 included by the plan, a visible grant of 200
    usages = [usage(1500)]
    lines = charge_lines(usages=usages, currency="USD", window=JANUARY)
    credits = [CreditUnits(1, "api-calls", Decimal(200), True, "Credits")]

    # when applied
    applied = credits_apply(
        usages=usages,
        lines=lines,
        credits=credits,
        currency="USD",
        included={"api-calls": Decimal(900)},
    )

    # then units 901-1100 are covered: 100 x 0.02 + 100 x 0.01 = 3.00
    assert [(line.kind, line.amount) for line in applied.lines] == [
        ("usage", Decimal("25.00")),
        ("credit", Decimal("-3.00")),
    ]
    assert applied.lines[0].breakdown["included_units"] == "900"
    assert applied.units_covered() == {"api-calls": Decimal(200)}


def test_included_units_and_credits_run_across_the_lines_of_one_metric_in_order():
    # given two grouped lines of 600 and 800 calls, 500 included and a grant of 1,000
    usages = [usage(600, group_key="region: eu"), usage(800, group_key="region: us")]
    lines = charge_lines(usages=usages, currency="USD", window=JANUARY)
    credits = [CreditUnits(1, "api-calls", Decimal(1000), False, "Credits")]

    applied = credits_apply(
        usages=usages,
        lines=lines,
        credits=credits,
        currency="USD",
        included={"api-calls": Decimal(500)},
    )

    # then eu: 500 included, 100 covered; us: 800 covered; 100 units of the grant are left
    eu, us = applied.lines
    assert (eu.quantity, us.quantity) == (Decimal(500), Decimal(0))
    assert [use.units for use in applied.uses] == [Decimal(100), Decimal(800)]


@given(
    units=st.lists(st.integers(min_value=0, max_value=30000), min_size=1, max_size=3),
    grants=st.lists(
        st.tuples(st.integers(min_value=1, max_value=20000), st.booleans()), max_size=4
    ),
    included=st.integers(min_value=0, max_value=20000),
)
def test_included_covered_and_billed_units_add_up_to_the_usage(units, grants, included):
    usages = [usage(u, group_key=f"g{i}") for i, u in enumerate(units)]
    lines = charge_lines(usages=usages, currency="USD", window=JANUARY)
    credits = [
        CreditUnits(n, "api-calls", Decimal(amount), visible, "Credits")
        for n, (amount, visible) in enumerate(grants, start=1)
    ]

    applied = credits_apply(
        usages=usages,
        lines=lines,
        credits=credits,
        currency="USD",
        included={"api-calls": Decimal(included)},
    )

    total_usage = sum(units)
    covered = sum((use.units for use in applied.uses), Decimal(0))
    # covered units: what the grants hold, at most what is used beyond the included units
    assert covered == min(sum(a for a, _ in grants), max(total_usage - included, 0))
    for n, (amount, _) in enumerate(grants, start=1):
        assert sum(u.units for u in applied.uses if u.grant_id == n) <= amount
    # the invoice pays the full price less exactly the value of the covered units
    full = sum((price_charge(u).amount for u in usages), Decimal(0))
    value = sum((use.value for use in applied.uses), Decimal(0))
    precise = sum((line.amount_precise for line in applied.lines), Decimal(0))
    assert precise == full - value
    assert invoice_total(applied.lines) >= Decimal(0)
    # each usage line: included + covered never exceed its usage; it bills its usage less the
    # units invisible credits covered
    for line, u in zip([x for x in applied.lines if x.kind == "usage"], usages, strict=True):
        notes = line.breakdown.get("credits", [])
        hidden = sum(Decimal(n["units"]) for n in notes if not n["visible"])
        free = Decimal(line.breakdown.get("included_units", "0"))
        assert free + sum(Decimal(n["units"]) for n in notes) <= u.units
        assert line.quantity == u.units - hidden


def test_a_credit_line_says_which_units_it_covered():
    usages = [usage(1500)]
    lines = charge_lines(usages=usages, currency="USD", window=JANUARY)
    credits = [CreditUnits(1, "api-calls", Decimal(300), True, "Credits")]

    applied = credits_apply(
        usages=usages,
        lines=lines,
        credits=credits,
        currency="USD",
        included={"api-calls": Decimal(500)},
    )

    credit = applied.lines[1]
    assert credit.description == "Credits: 300 units of API calls"
    assert credit.breakdown["formula"] == (
        "300 units (units 501 to 800 of the usage) at the prices of their tiers, credited"
    )
    assert credit.amount == Decimal("-6.00")


def test_credits_over_free_units_make_a_zero_line_not_a_negative_zero():
    free = {
        "graduated_ranges": [
            {"from_value": 0, "to_value": 100, "per_unit_amount": "0", "flat_amount": "0"},
            {"from_value": 101, "to_value": None, "per_unit_amount": "0.10", "flat_amount": "0"},
        ]
    }
    usages = [replace(usage(150), properties=free)]
    lines = charge_lines(usages=usages, currency="USD", window=JANUARY)
    credits = [CreditUnits(1, "api-calls", Decimal(120), True, "Credits")]

    applied = credits_apply(usages=usages, lines=lines, credits=credits, currency="USD")

    # then 120 units are covered: 100 free ones (0.00) and 20 at 0.10 (2.00), one line
    assert [(line.kind, str(line.amount)) for line in applied.lines] == [
        ("usage", "5.00"),
        ("credit", "-2.00"),
    ]
    zero = credits_apply(
        usages=[replace(usage(50), properties=free)],
        lines=charge_lines(
            usages=[replace(usage(50), properties=free)], currency="USD", window=JANUARY
        ),
        credits=credits,
        currency="USD",
    )
    assert [(line.kind, str(line.amount)) for line in zero.lines] == [
        ("usage", "0.00"),
        ("credit", "0.00"),
    ]
