"""The catalog in sentences. No database."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from plans.sentences import ChargeLine, override_sentence, plan_sentence, price_sentence

FREE_THEN = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 10000, "per_unit_amount": "0", "flat_amount": "0"},
        {"from_value": 10001, "to_value": None, "per_unit_amount": "0.002", "flat_amount": "0"},
    ]
}


@pytest.mark.parametrize(
    ("_case", "model", "properties", "currency", "expected"),
    [
        (
            "free tier then a price",
            "graduated",
            FREE_THEN,
            "USD",
            "0–10,000 free, then $0.002 per unit",
        ),
        (
            "three graduated tiers with a flat fee",
            "graduated",
            {
                "graduated_ranges": [
                    {"from_value": 0, "to_value": 1000, "per_unit_amount": "0.02"},
                    {"from_value": 1001, "to_value": 10000, "per_unit_amount": "0.01"},
                    {
                        "from_value": 10001,
                        "to_value": None,
                        "per_unit_amount": "0",
                        "flat_amount": "5",
                    },
                ]
            },
            "EUR",
            "0–1,000 €0.02 per unit, then €0.01 per unit up to 10,000, then €5.00 flat",
        ),
        (
            "volume",
            "volume",
            {
                "volume_ranges": [
                    {"from_value": 0, "to_value": 100, "per_unit_amount": "1"},
                    {"from_value": 101, "to_value": None, "per_unit_amount": "0.5"},
                ]
            },
            "USD",
            "all units at the tier the total reaches (0–100 $1.00 per unit, "
            "101 and up $0.50 per unit)",
        ),
        (
            "standard with free units",
            "standard",
            {"amount": "0.01", "free_units": 700},
            "USD",
            "$0.01 per unit, first 700 free",
        ),
        (
            "zero-decimal currency",
            "package",
            {"amount": "500", "package_size": 1000},
            "JPY",
            "¥500 per 1,000 units",
        ),
        (
            "percentage with fee and bounds",
            "percentage",
            {
                "rate": "2.5",
                "fixed_amount": "0.30",
                "per_transaction_min_amount": "0.5",
                "per_transaction_max_amount": "10",
            },
            "USD",
            "2.5% + $0.30 of each transaction, at least $0.50, at most $10.00",
        ),
        ("no price", "standard", {}, "USD", "not billed"),
    ],
)
def test_a_price_reads_as_a_sentence_with_money_in_the_currencys_form(
    _case, model, properties, currency, expected
):
    assert price_sentence(model, properties, currency) == expected


def test_a_plan_version_reads_as_one_sentence():
    # given
    charges = [
        ChargeLine("API calls", "graduated", FREE_THEN),
        ChargeLine("Storage", "standard", {"amount": "0.10"}, filter_count=2),
    ]
    # when
    sentence = plan_sentence(
        base_fee=Decimal("49.0000"),
        currency="USD",
        interval="month",
        in_advance=True,
        charges=charges,
    )
    # then
    assert sentence == (
        "$49.00 a month (USD), paid in advance; API calls: 0–10,000 free, then $0.002 per unit; "
        "Storage: $0.10 per unit (2 filters priced apart)"
    )


def test_a_plan_without_charges_says_so():
    assert plan_sentence(
        base_fee=Decimal("500"), currency="JPY", interval="year", in_advance=False, charges=[]
    ) == ("¥500 a year (JPY), paid in arrears; no usage charges")


@pytest.mark.parametrize(
    ("_case", "kwargs", "expected"),
    [
        (
            "new tiers until a date",
            {
                "kind": "charge",
                "target": "API calls",
                "value": {"charge_model": "graduated", "properties": FREE_THEN},
                "valid_until": datetime(2027, 1, 30, tzinfo=UTC),
            },
            "API calls: 0–10,000 free, then $0.002 per unit until 2027-01-30 UTC",
        ),
        (
            "a discount on the plan's price in a window",
            {
                "kind": "charge",
                "target": "API calls",
                "value": {"discount_percent": "20"},
                "valid_from": datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
                "valid_until": datetime(2027, 1, 1, tzinfo=UTC),
            },
            "API calls: 20% off from 2026-12-01 09:30 UTC until 2027-01-01 UTC",
        ),
        (
            "base fee discount",
            {"kind": "base_fee", "value": {"discount_percent": "12.50"}},
            "Base fee: 12.5% off",
        ),
        ("base fee amount", {"kind": "base_fee", "value": {"amount": "39"}}, "Base fee: $39.00"),
        (
            "a feature switched off",
            {"kind": "feature", "target": "Single sign-on", "value": {"enabled": False}},
            "Single sign-on: disabled",
        ),
        (
            "a metered limit",
            {"kind": "feature", "target": "API calls", "value": {"limit": "5000", "cap": "soft"}},
            "API calls: limit 5,000 soft cap",
        ),
        (
            "unlimited",
            {"kind": "feature", "target": "Seats", "value": {"limit": None}},
            "Seats: unlimited",
        ),
        (
            "credits",
            {
                "kind": "credit",
                "target": "API calls",
                "value": {"refill_amount": "1000", "renew_on_billing": True},
            },
            "Credits of API calls: refills 1,000 each period, renews each billing period",
        ),
    ],
)
def test_an_override_reads_as_a_sentence(_case, kwargs, expected):
    assert override_sentence(currency="USD", **kwargs) == expected


def test_a_moment_shows_its_own_time_zone():
    # given
    paris = timezone(timedelta(hours=1), "CET")
    # when
    sentence = override_sentence(
        kind="base_fee",
        value={"amount": "10"},
        currency="EUR",
        valid_until=datetime(2027, 1, 30, 8, 0, tzinfo=paris),
    )
    # then
    assert sentence == "Base fee: €10.00 until 2027-01-30 08:00 CET"
