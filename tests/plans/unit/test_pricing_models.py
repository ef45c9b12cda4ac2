"""Table tests for plans.pricing, from the seed guides' worked examples. No database."""

from decimal import Decimal

import pytest

from plans.pricing import (
    BreakdownRow,
    ChargeResult,
    PricingError,
    example_sentence,
    price,
    validate_properties,
)


def _tier(from_value, to_value, per_unit_amount, flat_amount="0"):
    return {
        "from_value": from_value,
        "to_value": to_value,
        "per_unit_amount": per_unit_amount,
        "flat_amount": flat_amount,
    }


# The Lago guide's example, written integer-inclusive as the guide does.
GUIDE_TIERS = [
    _tier(0, 1000, "0.02"),
    _tier(1001, 10000, "0.01"),
    _tier(10001, None, "0.005"),
]
# The same table written continuously (each tier starts where the previous one ends).
CONTINUOUS_TIERS = [
    _tier(0, 1000, "0.02"),
    _tier(1000, 10000, "0.01"),
    _tier(10000, None, "0.005"),
]
FLAT_TIERS = [
    _tier(0, 1000, "0.02", "5"),
    _tier(1001, 10000, "0.01", "10"),
    _tier(10001, None, "0.005", "20"),
]
STRIPE_LIKE = {"rate": "2.9", "fixed_amount": "0.30"}


# --- graduated ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "units", "expected"),
    [
        ("zero", "0", "0"),
        ("inside tier 1", "999", "19.98"),
        ("last unit of tier 1", "1000", "20.00"),
        ("first unit of tier 2", "1001", "20.01"),
        ("last unit of tier 2", "10000", "110.00"),
        ("first unit of tier 3", "10001", "110.005"),
        ("deep in tier 3", "15000", "135.00"),
        ("half a unit past tier 1", "1000.5", "20.005"),
        ("fraction inside tier 1", "0.25", "0.005"),
        ("half a unit past tier 2", "10000.5", "110.0025"),
    ],
)
def test_graduated_tiers_count_integer_inclusive_boundaries(_case, units, expected):
    # given / when
    result = price("graduated", {"graduated_ranges": GUIDE_TIERS}, Decimal(units))

    # then
    assert result.amount == Decimal(expected)


@pytest.mark.parametrize(
    ("_case", "units", "expected"),
    [
        ("zero", "0", "0"),
        ("last unit of tier 1", "1000", "20.00"),
        ("first unit of tier 2", "1001", "20.01"),
        ("first unit of tier 3", "10001", "110.005"),
        ("deep in tier 3", "15000", "135.00"),
        ("fraction past tier 1", "1000.5", "20.005"),
    ],
)
def test_graduated_continuous_tiers_price_like_the_integer_inclusive_table(_case, units, expected):
    # given / when
    result = price("graduated", {"graduated_ranges": CONTINUOUS_TIERS}, Decimal(units))

    # then
    assert result.amount == Decimal(expected)


def test_graduated_mixed_boundary_styles_hold_the_same_units_per_tier():
    # given
    mixed = [_tier(0, 1000, "0.02"), _tier(1000, 10000, "0.01"), _tier(10001, None, "0.005")]

    # when
    result = price("graduated", {"graduated_ranges": mixed}, Decimal("15000"))

    # then
    assert [row.units for row in result.breakdown] == [
        Decimal("1000"),
        Decimal("9000"),
        Decimal("5000"),
    ]
    assert result.amount == Decimal("135.00")


def test_graduated_breakdown_lists_each_tier_reached():
    # given / when
    result = price("graduated", {"graduated_ranges": GUIDE_TIERS}, Decimal("10001"))

    # then
    assert result == ChargeResult(
        amount=Decimal("110.005"),
        units=Decimal("10001"),
        breakdown=(
            BreakdownRow(
                "0 – 1,000", Decimal("1000"), Decimal("0.02"), Decimal("0"), Decimal("20")
            ),
            BreakdownRow(
                "1,001 – 10,000", Decimal("9000"), Decimal("0.01"), Decimal("0"), Decimal("90")
            ),
            BreakdownRow(
                "10,001 and up", Decimal("1"), Decimal("0.005"), Decimal("0"), Decimal("0.005")
            ),
        ),
    )


@pytest.mark.parametrize(
    ("_case", "units", "expected"),
    [
        ("first tier's flat fee is due at zero units", "0", "5"),
        ("tier 2 flat fee not due until tier 2 is reached", "1000", "25.00"),
        ("a fraction into tier 2 reaches it", "1000.5", "35.005"),
        ("all three flat fees", "10001", "145.005"),
    ],
)
def test_graduated_flat_amounts_are_charged_once_per_tier_reached(_case, units, expected):
    # given / when
    result = price("graduated", {"graduated_ranges": FLAT_TIERS}, Decimal(units))

    # then
    assert result.amount == Decimal(expected)


def test_graduated_first_tier_flat_amount_shows_as_a_zero_unit_row():
    # given / when
    result = price("graduated", {"graduated_ranges": FLAT_TIERS}, Decimal("0"))

    # then
    assert result.breakdown == (
        BreakdownRow("0 – 1,000", Decimal("0"), Decimal("0.02"), Decimal("5"), Decimal("5")),
    )


@pytest.mark.parametrize(
    ("_case", "units", "expected"),
    [
        ("inside the included calls", "10000", "0"),
        ("guide's hybrid example", "12000", "2.000"),
        ("into the third tier", "150000", "115.0000"),
    ],
)
def test_graduated_free_first_tier_bills_only_the_overage(_case, units, expected):
    # given: the Lago guide's "0-10,000 @ $0, 10,001-100,000 @ $0.001, 100,001+ @ $0.0005"
    tiers = [_tier(0, 10000, "0"), _tier(10001, 100000, "0.001"), _tier(100001, None, "0.0005")]

    # when
    result = price("graduated", {"graduated_ranges": tiers}, Decimal(units))

    # then
    assert result.amount == Decimal(expected)


def test_graduated_keeps_twelve_decimal_places_exact():
    # given
    tiers = [_tier(0, 1000, "0.000000000001"), _tier(1001, None, "0.123456789012")]

    # when
    result = price("graduated", {"graduated_ranges": tiers}, Decimal("1001.0001"))

    # then
    assert result.amount == Decimal("0.1234691356909012")


# --- volume ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "units", "expected"),
    [
        ("zero", "0", "0"),
        ("inside tier 1", "999", "19.98"),
        ("last unit of tier 1", "1000", "20.00"),
        ("first unit of tier 2 reprices everything", "1001", "10.01"),
        ("guide's 5,000 calls all at $0.01", "5000", "50.00"),
        ("last unit of tier 2", "10000", "100.00"),
        ("first unit of tier 3", "10001", "50.005"),
        ("deep in tier 3", "15000", "75.000"),
        ("fraction past tier 1 belongs to tier 2", "1000.5", "10.005"),
    ],
)
def test_volume_prices_all_units_in_the_tier_the_total_falls_in(_case, units, expected):
    # given / when
    result = price("volume", {"volume_ranges": GUIDE_TIERS}, Decimal(units))

    # then
    assert result.amount == Decimal(expected)


@pytest.mark.parametrize(
    ("_case", "units", "expected_label"),
    [
        ("end of the lower tier", "100", "0 – 100"),
        ("fraction between the tiers", "100.5", "101 – 200"),
        ("start of the upper tier", "101", "101 – 200"),
    ],
)
def test_volume_fraction_between_integer_tiers_belongs_to_the_upper_one(
    _case, units, expected_label
):
    # given
    tiers = [_tier(0, 100, "2"), _tier(101, 200, "1"), _tier(201, None, "0.5")]

    # when
    result = price("volume", {"volume_ranges": tiers}, Decimal(units))

    # then
    assert [row.label for row in result.breakdown] == [expected_label]


@pytest.mark.parametrize(
    ("_case", "units", "expected"),
    [
        ("first tier flat fee at zero units", "0", "5"),
        ("tier 1 with its flat fee", "1000", "25.00"),
        ("tier 2 with only its flat fee", "1001", "20.01"),
    ],
)
def test_volume_adds_the_flat_amount_of_the_tier_reached(_case, units, expected):
    # given / when
    result = price("volume", {"volume_ranges": FLAT_TIERS}, Decimal(units))

    # then
    assert result.amount == Decimal(expected)


def test_volume_continuous_tiers_put_the_boundary_unit_in_the_lower_tier():
    # given / when
    at_boundary = price("volume", {"volume_ranges": CONTINUOUS_TIERS}, Decimal("1000"))
    past_boundary = price("volume", {"volume_ranges": CONTINUOUS_TIERS}, Decimal("1000.01"))

    # then
    assert at_boundary.amount == Decimal("20.00")
    assert past_boundary.amount == Decimal("10.0001")


# --- standard ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "properties", "units", "expected"),
    [
        ("guide's $0.01 per call, none used", {"amount": "0.01", "free_units": 1000}, "0", "0"),
        ("inside the free units", {"amount": "0.01", "free_units": 1000}, "500", "0"),
        ("exactly the free units", {"amount": "0.01", "free_units": 1000}, "1000", "0"),
        ("one paid call", {"amount": "0.01", "free_units": 1000}, "1001", "0.01"),
        ("1,500 paid calls", {"amount": "0.01", "free_units": 1000}, "2500", "15.00"),
        ("half a paid unit", {"amount": "0.01", "free_units": 1000}, "1000.5", "0.005"),
        ("agent invocations, free 100", {"amount": "0.05", "free_units": 100}, "100", "0"),
        ("agent invocations, one over", {"amount": "0.05", "free_units": 100}, "101", "0.05"),
        ("agent invocations, 150 over", {"amount": "0.05", "free_units": 100}, "250", "7.50"),
        ("storage GB-hours", {"amount": "0.10", "free_units": 100}, "120.5", "2.050"),
        ("no free units key", {"amount": "0.002"}, "1500", "3.000"),
        ("free units null as Lago sends", {"amount": 0.01, "free_units": None}, "3", "0.03"),
        ("passthrough at $0", {"amount": "0"}, "1000000", "0"),
    ],
)
def test_standard_charges_each_unit_beyond_the_free_units(_case, properties, units, expected):
    # given / when
    result = price("standard", properties, Decimal(units))

    # then
    assert result.amount == Decimal(expected)


def test_standard_breakdown_separates_free_and_paid_units():
    # given / when
    result = price("standard", {"amount": "0.01", "free_units": "1000"}, Decimal("2500"))

    # then
    assert [row.as_dict() for row in result.breakdown] == [
        {
            "label": "free units",
            "units": "1000",
            "unit_price": "0",
            "flat_amount": "0",
            "amount": "0",
        },
        {
            "label": "per unit",
            "units": "1500",
            "unit_price": "0.01",
            "flat_amount": "0",
            "amount": "15.00",
        },
    ]


# --- package -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "properties", "units", "expected"),
    [
        ("nothing used", {"amount": "10", "package_size": 1000}, "0", "0"),
        ("one call opens a package", {"amount": "10", "package_size": 1000}, "1", "10"),
        ("a fraction opens a package", {"amount": "10", "package_size": 1000}, "0.5", "10"),
        ("one full package", {"amount": "10", "package_size": 1000}, "1000", "10"),
        ("one call into the second", {"amount": "10", "package_size": 1000}, "1001", "20"),
        ("two and a half packages", {"amount": "10", "package_size": 1000}, "2500", "30"),
        ("free units first", {"amount": "10", "package_size": 1000, "free_units": 500}, "500", "0"),
        ("one paid unit", {"amount": "10", "package_size": 1000, "free_units": 500}, "501", "10"),
        ("1,000 paid", {"amount": "10", "package_size": 1000, "free_units": 500}, "1500", "10"),
        ("1,001 paid", {"amount": "10", "package_size": 1000, "free_units": 500}, "1501", "20"),
        (
            "free exceeds usage",
            {"amount": "10", "package_size": 1000, "free_units": 5000},
            "2500",
            "0",
        ),
        ("guide's free plan at $0", {"amount": "0", "package_size": 100}, "100", "0"),
        ("decimal package size", {"amount": "1.5", "package_size": "0.25"}, "1.1", "7.5"),
    ],
)
def test_package_charges_whole_packages_of_paid_units(_case, properties, units, expected):
    # given / when
    result = price("package", properties, Decimal(units))

    # then
    assert result.amount == Decimal(expected)


def test_package_breakdown_counts_packages():
    # given / when
    result = price(
        "package", {"amount": "10", "package_size": 1000, "free_units": 100}, Decimal("2600")
    )

    # then
    assert result.breakdown == (
        BreakdownRow("free units", Decimal("100"), Decimal("0"), Decimal("0"), Decimal("0")),
        BreakdownRow("package", Decimal("3"), Decimal("10"), Decimal("0"), Decimal("30")),
    )


# --- percentage --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "properties", "units", "event_values", "expected"),
    [
        ("stripe-like on three events", STRIPE_LIKE, "160", ["100", "50", "10"], "5.54"),
        ("no event values: one transaction", STRIPE_LIKE, "100", [], "3.20"),
        ("zero units owe nothing", STRIPE_LIKE, "0", [], "0"),
        ("zero-value events owe nothing", STRIPE_LIKE, "0", ["0", "0"], "0"),
        ("rate only, fractional", {"rate": "1"}, "0.5", [], "0.005"),
        ("rate as a JSON number", {"rate": 2.5}, "40", [], "1.000"),
        (
            "first event free",
            {**STRIPE_LIKE, "free_units_per_events": 1},
            "160",
            ["100", "50", "10"],
            "2.34",
        ),
        (
            "free total spans events, the partly free one pays its fixed fee",
            {**STRIPE_LIKE, "free_units_per_total_aggregation": "120"},
            "160",
            ["100", "50", "10"],
            "1.76",
        ),
        (
            "both: event count reached first",
            {**STRIPE_LIKE, "free_units_per_events": 2, "free_units_per_total_aggregation": "500"},
            "160",
            ["100", "50", "10"],
            "0.59",
        ),
        (
            "both: free total reached first",
            {**STRIPE_LIKE, "free_units_per_events": 3, "free_units_per_total_aggregation": "120"},
            "160",
            ["100", "50", "10"],
            "1.76",
        ),
        (
            "zero free total counts as not set",
            {**STRIPE_LIKE, "free_units_per_events": 1, "free_units_per_total_aggregation": 0},
            "160",
            ["100", "50", "10"],
            "2.34",
        ),
        (
            "free total larger than usage",
            {**STRIPE_LIKE, "free_units_per_total_aggregation": "1000"},
            "160",
            ["100", "50", "10"],
            "0",
        ),
        (
            "minimum lifts small transactions",
            {**STRIPE_LIKE, "per_transaction_min_amount": "0.50"},
            "106",
            ["100", "5", "1"],
            "4.20",
        ),
        (
            "maximum caps large transactions",
            {**STRIPE_LIKE, "per_transaction_max_amount": "2.00"},
            "160",
            ["100", "50", "10"],
            "4.34",
        ),
        (
            "min and max without a fixed fee",
            {
                "rate": "10",
                "per_transaction_min_amount": "1",
                "per_transaction_max_amount": "5",
            },
            "205",
            ["100", "5", "100"],
            "11",
        ),
        (
            "minimum not applied to free events",
            {**STRIPE_LIKE, "free_units_per_events": 2, "per_transaction_min_amount": "1"},
            "160",
            ["100", "50", "10"],
            "1",
        ),
        ("fractional event values", STRIPE_LIKE, "1.5", ["0.5", "1"], "0.6435"),
    ],
)
def test_percentage_charges_rate_and_fixed_fee_per_paid_transaction(
    _case, properties, units, event_values, expected
):
    # given
    values = [Decimal(v) for v in event_values]

    # when
    result = price("percentage", properties, Decimal(units), values)

    # then
    assert result.amount == Decimal(expected)


def test_percentage_breakdown_shows_rate_fixed_fees_and_clamp_adjustment():
    # given
    properties = {**STRIPE_LIKE, "per_transaction_min_amount": "0.50"}
    values = [Decimal("100"), Decimal("5"), Decimal("1")]

    # when
    result = price("percentage", properties, Decimal("106"), values)

    # then
    assert result.as_dict() == {
        "amount": "4.200",
        "units": "106",
        "breakdown": [
            {
                "label": "percentage",
                "units": "106",
                "unit_price": "0.029",
                "flat_amount": "0",
                "amount": "3.074",
            },
            {
                "label": "fixed fees",
                "units": "3",
                "unit_price": "0.30",
                "flat_amount": "0",
                "amount": "0.90",
            },
            {
                "label": "per-transaction min/max adjustment",
                "units": "2",
                "unit_price": "0",
                "flat_amount": "0.226",
                "amount": "0.226",
            },
        ],
    }


def test_percentage_breakdown_shows_free_units_when_an_allowance_is_set():
    # given
    properties = {**STRIPE_LIKE, "free_units_per_total_aggregation": "120"}
    values = [Decimal("100"), Decimal("50"), Decimal("10")]

    # when
    result = price("percentage", properties, Decimal("160"), values)

    # then
    assert [(row.label, row.units, row.amount) for row in result.breakdown] == [
        ("free units", Decimal("120"), Decimal("0")),
        ("percentage", Decimal("40"), Decimal("1.160")),
        ("fixed fees", Decimal("2"), Decimal("0.60")),
    ]


def test_percentage_rejects_event_values_that_do_not_sum_to_units():
    # given
    values = [Decimal("100"), Decimal("50")]

    # when
    with pytest.raises(PricingError) as raised:
        price("percentage", STRIPE_LIKE, Decimal("160"), values)

    # then
    assert raised.value.field == "event_values"
    assert raised.value.message == "The event values sum to 150 but units is 160; they must match."


def test_percentage_rejects_negative_event_values():
    # given
    values = [Decimal("100"), Decimal("-10")]

    # when
    with pytest.raises(PricingError) as raised:
        price("percentage", STRIPE_LIKE, Decimal("90"), values)

    # then
    assert raised.value.field == "event_values[1]"
    assert raised.value.message == "event_values[1] must not be negative; got -10."


def test_event_values_are_ignored_by_other_models():
    # given / when
    result = price("standard", {"amount": "1"}, Decimal("3"), [Decimal("1")])

    # then
    assert result.amount == Decimal("3")


# --- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "model", "properties", "expected"),
    [
        (
            "gap between tiers",
            "graduated",
            {"graduated_ranges": [_tier(0, 1000, "0.02"), _tier(1200, None, "0.01")]},
            {
                "graduated_ranges[1].from_value": [
                    "Tier 2 must start at 1000 or 1001 (right after tier 1 ends at 1000); "
                    "got 1200 (gap)."
                ]
            },
        ),
        (
            "overlapping tiers",
            "volume",
            {"volume_ranges": [_tier(0, 1000, "0.02"), _tier(900, None, "0.01")]},
            {
                "volume_ranges[1].from_value": [
                    "Tier 2 must start at 1000 or 1001 (right after tier 1 ends at 1000); "
                    "got 900 (overlap)."
                ]
            },
        ),
        (
            "first tier not at zero",
            "graduated",
            {"graduated_ranges": [_tier(1, 1000, "0.02"), _tier(1001, None, "0.01")]},
            {"graduated_ranges[0].from_value": ["Tier 1 must start at 0; got 1."]},
        ),
        (
            "negative prices",
            "graduated",
            {"graduated_ranges": [_tier(0, 1000, "0.02", "-1"), _tier(1001, None, "-0.01")]},
            {
                "graduated_ranges[0].flat_amount": [
                    "Tier 1 flat_amount must not be negative; got -1."
                ],
                "graduated_ranges[1].per_unit_amount": [
                    "Tier 2 per_unit_amount must not be negative; got -0.01."
                ],
            },
        ),
        (
            "open middle tier",
            "graduated",
            {
                "graduated_ranges": [
                    _tier(0, 1000, "0.02"),
                    _tier(1001, None, "0.01"),
                    _tier(10001, None, "0.005"),
                ]
            },
            {
                "graduated_ranges[1].to_value": [
                    "Tier 2 has no to_value, but only the last tier may be open-ended."
                ]
            },
        ),
        (
            "closed last tier",
            "volume",
            {"volume_ranges": [_tier(0, 1000, "0.02"), _tier(1001, 5000, "0.01")]},
            {
                "volume_ranges[1].to_value": [
                    "Tier 2 is the last tier and must be open-ended (to_value null), "
                    "so that all usage is priced."
                ]
            },
        ),
        (
            "tier ending before it starts",
            "graduated",
            {
                "graduated_ranges": [
                    _tier(0, 1000, "0.02"),
                    _tier(1001, 1001, "1"),
                    _tier(1002, None, "0"),
                ]
            },
            {
                "graduated_ranges[1].to_value": [
                    "Tier 2 to_value (1001) must be greater than its from_value (1001)."
                ]
            },
        ),
        (
            "not a number",
            "graduated",
            {"graduated_ranges": [_tier(0, None, "two cents")]},
            {
                "graduated_ranges[0].per_unit_amount": [
                    "Tier 1 per_unit_amount must be a decimal number; got 'two cents'."
                ]
            },
        ),
        (
            "missing per-unit amount",
            "graduated",
            {"graduated_ranges": [{"from_value": 0, "to_value": None}]},
            {"graduated_ranges[0].per_unit_amount": ["Tier 1 per_unit_amount is required."]},
        ),
        (
            "unknown tier key",
            "graduated",
            {"graduated_ranges": [{**_tier(0, None, "1"), "flat_fee": "2"}]},
            {
                "graduated_ranges[0].flat_fee": [
                    "Unknown property 'flat_fee' for Tier 1; "
                    "expected: from_value, to_value, per_unit_amount, flat_amount."
                ]
            },
        ),
        (
            "empty tier list",
            "volume",
            {"volume_ranges": []},
            {"volume_ranges": ["volume_ranges must be a non-empty list of tiers."]},
        ),
        (
            "missing tier list",
            "graduated",
            {},
            {"graduated_ranges": ["graduated_ranges is required."]},
        ),
        (
            "package size zero",
            "package",
            {"amount": "10", "package_size": 0},
            {"package_size": ["package_size must be greater than 0; got 0."]},
        ),
        (
            "negative standard amount",
            "standard",
            {"amount": "-0.01", "free_units": -5},
            {
                "amount": ["amount must not be negative; got -0.01."],
                "free_units": ["free_units must not be negative; got -5."],
            },
        ),
        (
            "unknown key, so a typo does not price at zero",
            "standard",
            {"amout": "0.01"},
            {
                "amout": [
                    "Unknown property 'amout' for the standard model; expected: amount, "
                    "free_units, grouped_by, pricing_group_keys."
                ],
                "amount": ["amount is required."],
            },
        ),
        (
            "boolean is not a number",
            "standard",
            {"amount": True},
            {"amount": ["amount must be a decimal number; got True."]},
        ),
        (
            "rate above 100",
            "percentage",
            {"rate": 101},
            {"rate": ["rate must be between 0 and 100 (a percentage); got 101."]},
        ),
        (
            "min above max",
            "percentage",
            {"rate": "2.9", "per_transaction_min_amount": "2", "per_transaction_max_amount": "1"},
            {
                "per_transaction_min_amount": [
                    "per_transaction_min_amount (2) must not exceed per_transaction_max_amount (1)."
                ]
            },
        ),
        (
            "fractional free events",
            "percentage",
            {"rate": "2.9", "free_units_per_events": "1.5"},
            {
                "free_units_per_events": [
                    "free_units_per_events must be a whole number of events; got 1.5."
                ]
            },
        ),
        (
            "unknown model",
            "tiered",
            {},
            {
                "charge_model": [
                    "Unknown charge model 'tiered'; "
                    "expected one of: standard, package, graduated, volume, percentage."
                ]
            },
        ),
    ],
)
def test_validation_names_the_field_and_the_problem(_case, model, properties, expected):
    # given / when
    errors = validate_properties(model, properties)

    # then
    assert errors == expected


@pytest.mark.parametrize(
    ("_case", "model", "properties"),
    [
        ("integer-inclusive tiers", "graduated", {"graduated_ranges": GUIDE_TIERS}),
        ("continuous tiers", "volume", {"volume_ranges": CONTINUOUS_TIERS}),
        ("single open tier", "volume", {"volume_ranges": [_tier(0, None, "1")]}),
        ("standard with null free units", "standard", {"amount": "0.01", "free_units": None}),
        ("package", "package", {"amount": 10, "package_size": "1000", "free_units": 0}),
        (
            "full percentage",
            "percentage",
            {
                "rate": "2.9",
                "fixed_amount": "0.30",
                "free_units_per_events": 3,
                "free_units_per_total_aggregation": "1000",
                "per_transaction_min_amount": "0.50",
                "per_transaction_max_amount": "0.50",
            },
        ),
    ],
)
def test_validation_accepts_well_formed_properties(_case, model, properties):
    # given / when
    errors = validate_properties(model, properties)

    # then
    assert errors == {}


def test_price_raises_the_first_validation_error():
    # given
    tiers = [_tier(0, 1000, "0.02"), _tier(1200, None, "0.01")]

    # when
    with pytest.raises(PricingError) as raised:
        price("graduated", {"graduated_ranges": tiers}, Decimal("5"))

    # then
    assert raised.value.field == "graduated_ranges[1].from_value"
    assert raised.value.message == (
        "Tier 2 must start at 1000 or 1001 (right after tier 1 ends at 1000); got 1200 (gap)."
    )


def test_price_rejects_negative_units():
    # when
    with pytest.raises(PricingError) as raised:
        price("standard", {"amount": "1"}, Decimal("-1"))

    # then
    assert (raised.value.field, raised.value.message) == (
        "units",
        "units must not be negative; got -1.",
    )


def test_pricing_error_is_a_value_error():
    # when
    with pytest.raises(ValueError, match="package_size must be greater than 0"):
        price("package", {"amount": "10", "package_size": "0"}, Decimal("1"))


# --- example sentence and serialisation --------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "model", "properties", "units", "currency", "expected"),
    [
        (
            "graduated rounds half-up",
            "graduated",
            {"graduated_ranges": GUIDE_TIERS},
            "10001",
            "USD",
            "10,001 units cost $110.01",
        ),
        ("one unit", "standard", {"amount": "0.02"}, "1", "USD", "1 unit costs $0.02"),
        (
            "thousands in the amount",
            "standard",
            {"amount": "12.345"},
            "1000",
            "EUR",
            "1,000 units cost €12,345.00",
        ),
        (
            "fractional units",
            "standard",
            {"amount": "0.02"},
            "1500.5",
            "USD",
            "1,500.5 units cost $30.01",
        ),
    ],
)
def test_example_sentence_shows_units_and_rounded_amount(
    _case, model, properties, units, currency, expected
):
    # given / when
    sentence = example_sentence(model, properties, Decimal(units), currency)

    # then
    assert sentence == expected


def test_amounts_from_json_numbers_are_read_through_their_text_not_float_arithmetic():
    # given: 0.1 as a JSON float is not exactly a tenth in binary
    properties = {"amount": 0.1}

    # when
    result = price("standard", properties, Decimal("3"))

    # then
    assert result.amount == Decimal("0.3")


def test_result_as_dict_is_json_safe_strings():
    # given / when
    result = price("graduated", {"graduated_ranges": GUIDE_TIERS}, Decimal("1000"))

    # then
    assert result.as_dict() == {
        "amount": "20.00",
        "units": "1000",
        "breakdown": [
            {
                "label": "0 – 1,000",
                "units": "1000",
                "unit_price": "0.02",
                "flat_amount": "0",
                "amount": "20.00",
            }
        ],
    }
