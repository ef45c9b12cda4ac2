"""invoices.advance.fees: the fee of one event from the period's running state, exact."""

from decimal import Decimal

import pytest

from invoices.advance.fees import AdvanceEvent, RunningState, advance_fee, state_after
from plans.pricing import PricingError

GRADUATED_WITH_FLAT = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 2, "per_unit_amount": "1", "flat_amount": "3"},
        {"from_value": 3, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "1"},
    ]
}


def run(model: str, properties: dict, aggregation: str, *events: AdvanceEvent) -> list:
    state, amounts = RunningState(), []
    for event in events:
        state, fee = advance_fee(
            charge_model=model,
            properties=properties,
            aggregation=aggregation,
            state=state,
            event=event,
        )
        amounts.append(None if fee is None else fee.amount)
    return amounts


def test_free_units_are_used_up_by_the_first_events():
    one = AdvanceEvent(Decimal(1))
    amounts = run("standard", {"amount": "0.5", "free_units": 2}, "count", one, one, one, one)
    assert amounts == [Decimal(0), Decimal(0), Decimal("0.5"), Decimal("0.5")]


def test_a_package_is_billed_by_the_event_that_opens_it():
    props = {"amount": "5", "package_size": 10, "free_units": 0}
    amounts = run("package", props, "sum", *(AdvanceEvent(Decimal(n)) for n in (4, 6, 1)))
    assert amounts == [Decimal(5), Decimal(0), Decimal(5)]


def test_a_tiers_flat_amount_is_billed_once_with_the_first_unit_in_it():
    amounts = run("graduated", GRADUATED_WITH_FLAT, "count", *[AdvanceEvent(Decimal(1))] * 4)
    # 3 flat + 1; 1; 1 flat + 0.5; 0.5 — together the price of 4 units, 7
    assert amounts == [Decimal(4), Decimal(1), Decimal("1.5"), Decimal("0.5")]
    assert sum(amounts) == Decimal(7)


def test_a_fall_is_not_billed_and_only_the_rise_above_the_mark_is():
    amounts = run(
        "standard", {"amount": "2"}, "sum", *(AdvanceEvent(Decimal(n)) for n in (5, -3, 4))
    )
    assert amounts == [Decimal(10), None, Decimal(2)]


def test_a_removed_unique_value_leaves_the_high_water_mark():
    state = RunningState()
    for value, removes in (("a", False), ("b", False), ("a", True)):
        state = state_after("unique_count", state, AdvanceEvent(value, removes))
    assert (state.total, state.high_water, state.values) == (Decimal(1), Decimal(2), {"b"})


def test_a_max_metric_cannot_be_billed_in_advance():
    with pytest.raises(ValueError, match="max"):
        state_after("max", RunningState(), AdvanceEvent(Decimal(1)))


def test_a_volume_price_is_refused_rather_than_billed_per_event():
    volume = {
        "volume_ranges": [
            {"from_value": 0, "to_value": 10, "per_unit_amount": "2", "flat_amount": "0"},
            {"from_value": 11, "to_value": None, "per_unit_amount": "1", "flat_amount": "0"},
        ]
    }
    with pytest.raises(PricingError, match="volume"):
        run("volume", volume, "count", AdvanceEvent(Decimal(1)))


def test_the_metrics_rounding_applies_to_the_high_water_mark():
    state, amounts = RunningState(), []
    for value in ("0.3", "0.3", "0.5"):
        state, fee = advance_fee(
            charge_model="standard",
            properties={"amount": "2"},
            aggregation="sum",
            state=state,
            event=AdvanceEvent(Decimal(value)),
            rounding="ceil",
            rounding_precision=0,
        )
        amounts.append(None if fee is None else (fee.units, fee.amount))
    # ceil(0.3) = 1 unit; ceil(0.6) = 1, nothing more; ceil(1.1) = 2, one more unit
    assert amounts == [(Decimal(1), Decimal(2)), None, (Decimal(1), Decimal(2))]


def test_the_last_fees_price_carried_to_the_next_event_gives_the_same_fees():
    # given the seed's graduated tokens and events of 800, 700 and 9000 tokens
    props = {
        "graduated_ranges": [
            {"from_value": 0, "to_value": 1000, "per_unit_amount": "0.02", "flat_amount": "0"},
            {"from_value": 1001, "to_value": None, "per_unit_amount": "0.01", "flat_amount": "0"},
        ]
    }
    state, carried, amounts = RunningState(), None, []
    for value in (800, 700, 9000):
        state, fee = advance_fee(
            charge_model="graduated",
            properties=props,
            aggregation="sum",
            state=state,
            event=AdvanceEvent(Decimal(value)),
            price_before=carried,
        )
        carried = fee.price_after
        amounts.append(fee.amount)
    # then 16, 4 + 5, 90 — as when each mark is priced again
    assert amounts == [Decimal(16), Decimal(9), Decimal(90)]
    assert amounts == run(
        "graduated", props, "sum", *(AdvanceEvent(Decimal(n)) for n in (800, 700, 9000))
    )
