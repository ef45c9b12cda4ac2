"""Property tests for plans.pricing over generated valid charges. No database."""

import json
from decimal import ROUND_CEILING, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from plans.pricing import price, validate_properties

FAST = settings(max_examples=200, deadline=None)

units_st = st.decimals(min_value=0, max_value=30000, places=4)
unit_price_st = st.decimals(min_value=0, max_value=1, places=12)
amount_st = st.decimals(min_value=0, max_value=100, places=4)


@st.composite
def tier_tables(draw, style=None):
    """Valid tier tables with integer bounds: integer-inclusive, continuous or mixed."""
    style = style or draw(st.sampled_from(["inclusive", "continuous", "mixed"]))
    count = draw(st.integers(min_value=1, max_value=4))
    tiers, previous_to = [], None
    for index in range(count):
        if index == 0:
            start = 0
        elif style == "inclusive" or (style == "mixed" and draw(st.booleans())):
            start = previous_to + 1
        else:
            start = previous_to
        end = None if index == count - 1 else start + draw(st.integers(2, 8000))
        tiers.append(
            {
                "from_value": start,
                "to_value": end,
                "per_unit_amount": str(draw(unit_price_st)),
                "flat_amount": str(draw(amount_st)),
            }
        )
        previous_to = end
    return tiers


@st.composite
def standard_properties(draw):
    properties = {"amount": str(draw(unit_price_st))}
    if draw(st.booleans()):
        properties["free_units"] = str(draw(st.decimals(min_value=0, max_value=5000, places=2)))
    return properties


@st.composite
def package_properties(draw):
    size = draw(st.one_of(st.integers(1, 5000), st.decimals("0.01", "100", places=2)))
    properties = {"amount": str(draw(amount_st)), "package_size": str(size)}
    if draw(st.booleans()):
        properties["free_units"] = draw(st.integers(0, 5000))
    return properties


@st.composite
def percentage_properties(draw):
    properties = {"rate": str(draw(st.decimals(min_value=0, max_value=100, places=4)))}
    optional = st.none() | amount_st.map(str)
    properties["fixed_amount"] = draw(optional)
    properties["free_units_per_events"] = draw(st.none() | st.integers(0, 3))
    properties["free_units_per_total_aggregation"] = draw(optional)
    low, high = sorted(draw(st.lists(st.decimals(0, 20, places=2), min_size=2, max_size=2)))
    if draw(st.booleans()):
        properties["per_transaction_min_amount"] = str(low)
    if draw(st.booleans()):
        properties["per_transaction_max_amount"] = str(high)
    return properties


@st.composite
def tables_and_units(draw, style=None):
    """A tier table and units that often sit on, or a fraction either side of, a boundary."""
    tiers = draw(tier_tables(style))
    boundaries = [Decimal(t["to_value"]) for t in tiers[:-1]] + [Decimal("0")]
    near = st.sampled_from(boundaries).flatmap(
        lambda b: st.sampled_from(["-1", "-0.5", "-0.0001", "0", "0.0001", "0.5", "1"]).map(
            lambda offset: max(b + Decimal(offset), Decimal("0"))
        )
    )
    return tiers, draw(units_st | near)


charges = st.one_of(
    st.tuples(st.just("standard"), standard_properties()),
    st.tuples(st.just("package"), package_properties()),
    st.tuples(st.just("graduated"), tier_tables().map(lambda t: {"graduated_ranges": t})),
    st.tuples(st.just("volume"), tier_tables().map(lambda t: {"volume_ranges": t})),
    st.tuples(st.just("percentage"), percentage_properties()),
)
monotonic_charges = charges.filter(lambda charge: charge[0] != "volume")


def _lower_bounds(tiers):
    """Units above which each tier starts, read from its from_value and boundary style."""
    bounds = []
    for index, tier in enumerate(tiers):
        start = Decimal(tier["from_value"])
        inclusive = index > 0 and start == Decimal(tiers[index - 1]["to_value"]) + 1
        bounds.append(start - 1 if inclusive else start)
    return bounds


def _graduated_by_hand(tiers, units):
    total = Decimal("0")
    for index, (tier, below) in enumerate(zip(tiers, _lower_bounds(tiers), strict=True)):
        if index > 0 and units <= below:
            continue
        start, end = Decimal(tier["from_value"]), tier["to_value"]
        if end is None:
            in_tier = units - below
        else:
            capacity = Decimal(end) - start + (1 if below < start else 0)
            in_tier = min(units - below, capacity)
        total += in_tier * Decimal(tier["per_unit_amount"]) + Decimal(tier["flat_amount"])
    return total


@FAST
@given(charge=charges)
def test_generated_properties_are_valid(charge):
    # given
    model, properties = charge

    # when / then
    assert validate_properties(model, properties) == {}


@FAST
@given(charge=charges, units=units_st)
def test_amount_is_never_negative_with_non_negative_prices(charge, units):
    # given
    model, properties = charge

    # when
    result = price(model, properties, units)

    # then
    assert result.amount >= 0


@FAST
@given(charge=monotonic_charges, first=units_st, second=units_st)
def test_more_units_never_cost_less_except_under_volume(charge, first, second):
    # given
    model, properties = charge
    fewer, more = sorted((first, second))

    # when
    cheaper, dearer = price(model, properties, fewer), price(model, properties, more)

    # then
    assert cheaper.amount <= dearer.amount


@FAST
@given(charge=charges, units=units_st)
def test_breakdown_rows_sum_exactly_to_the_amount(charge, units):
    # given
    model, properties = charge

    # when
    result = price(model, properties, units)

    # then
    assert sum((row.amount for row in result.breakdown), Decimal("0")) == result.amount
    for row in result.breakdown:
        assert row.amount == row.units * row.unit_price + row.flat_amount


@FAST
@given(table=tables_and_units())
def test_graduated_equals_the_sum_over_tiers_computed_independently(table):
    # given
    tiers, units = table

    # when
    result = price("graduated", {"graduated_ranges": tiers}, units)

    # then
    assert result.amount == _graduated_by_hand(tiers, units)
    assert sum((row.units for row in result.breakdown), Decimal("0")) == units


@FAST
@given(table=tables_and_units(style="inclusive"))
def test_integer_inclusive_and_continuous_tables_with_equal_to_values_price_alike(table):
    # given
    tiers, units = table
    continuous = [
        {**tier, "from_value": tiers[i - 1]["to_value"] if i else 0} for i, tier in enumerate(tiers)
    ]

    # when
    inclusive_result = price("graduated", {"graduated_ranges": tiers}, units)
    continuous_result = price("graduated", {"graduated_ranges": continuous}, units)

    # then
    assert inclusive_result.amount == continuous_result.amount


@FAST
@given(table=tables_and_units())
def test_volume_prices_every_unit_at_the_one_tier_the_total_reaches(table):
    # given: the highest tier whose lower bound the total exceeds (the first at zero units)
    tiers, units = table
    ceiling = units.to_integral_value(rounding=ROUND_CEILING)
    reached = [
        tier
        for index, (tier, below) in enumerate(zip(tiers, _lower_bounds(tiers), strict=True))
        if index == 0 or ceiling > below
    ][-1]

    # when
    result = price("volume", {"volume_ranges": tiers}, units)

    # then
    expected = units * Decimal(reached["per_unit_amount"]) + Decimal(reached["flat_amount"])
    assert result.amount == expected


@FAST
@given(charge=charges)
def test_zero_units_owe_only_the_first_tier_flat_amount(charge):
    # given
    model, properties = charge
    tiers = properties.get(f"{model}_ranges")

    # when
    result = price(model, properties, Decimal("0"))

    # then
    assert result.amount == (Decimal(tiers[0]["flat_amount"]) if tiers else 0)


def _percentage_by_hand(properties, values):
    """Each event's free part from the running total before it, then its clamped fee."""
    rate = Decimal(properties["rate"]) / 100
    fixed = Decimal(properties.get("fixed_amount") or 0)
    free_events = properties.get("free_units_per_events") or 0
    free_total = Decimal(properties.get("free_units_per_total_aggregation") or 0)
    low = properties.get("per_transaction_min_amount")
    high = properties.get("per_transaction_max_amount")
    total, before = Decimal("0"), Decimal("0")
    for index, value in enumerate(values):
        in_allowance = (free_events or free_total) and (not free_events or index < free_events)
        if not in_allowance:
            free = Decimal("0")
        elif free_total:
            free = min(value, max(free_total - before, Decimal("0")))
        else:
            free = value
        before += value
        if value - free > 0:
            fee = (value - free) * rate + fixed
            fee = fee if low is None else max(fee, Decimal(low))
            fee = fee if high is None else min(fee, Decimal(high))
            total += fee
    return total


@FAST
@given(
    properties=percentage_properties(),
    values=st.lists(st.decimals(min_value=0, max_value=1000, places=2), max_size=6),
)
def test_percentage_equals_the_per_transaction_fees_computed_independently(properties, values):
    # when
    result = price("percentage", properties, sum(values, Decimal("0")), values)

    # then
    assert result.amount == _percentage_by_hand(properties, values)


@FAST
@given(
    properties=percentage_properties(),
    values=st.lists(st.decimals(min_value=0, max_value=1000, places=2), max_size=6),
    extra=st.decimals(min_value=0, max_value=1000, places=2),
)
def test_percentage_another_event_never_lowers_the_fee(properties, values, extra):
    # given
    before_units, after_units = sum(values, Decimal("0")), sum(values, extra)

    # when
    before = price("percentage", properties, before_units, values)
    after = price("percentage", properties, after_units, [*values, extra])

    # then
    assert before.amount <= after.amount


@FAST
@given(charge=charges, units=units_st)
def test_as_dict_round_trips_every_decimal_exactly(charge, units):
    # given
    model, properties = charge
    result = price(model, properties, units)

    # when
    data = json.loads(json.dumps(result.as_dict()))

    # then
    assert Decimal(data["amount"]) == result.amount
    assert Decimal(data["units"]) == result.units
    assert [
        tuple(Decimal(row[key]) for key in ("units", "unit_price", "flat_amount", "amount"))
        for row in data["breakdown"]
    ] == [(row.units, row.unit_price, row.flat_amount, row.amount) for row in result.breakdown]
    assert [row["label"] for row in data["breakdown"]] == [row.label for row in result.breakdown]
