"""The pure pricing engine: hand-computed cases for every model, then Hypothesis properties."""

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans.pricing import (
    PricingResult,
    TierLine,
    UsageInput,
    percentage_per_transaction,
    price,
    round_units,
)

D = Decimal


def usage(units, **kwargs) -> UsageInput:
    return UsageInput(units=D(str(units)), **kwargs)


def tier(from_value, to_value, unit_price, flat="0", key="per_unit_amount") -> dict:
    return {"from_value": from_value, "to_value": to_value, key: unit_price, "flat_amount": flat}


# Lago's example from the contract: 0..1000 at 0.01, then 0.005.
CONTRACT = {"graduated_ranges": [tier(0, 1000, "0.01"), tier(1001, None, "0.005")]}
WITH_FLATS = {
    "graduated_ranges": [
        tier(0, 100, "1", "10"),
        tier(101, 200, "0.5", "5"),
        tier(201, None, "0.1", "1"),
    ]
}
TOUCHING = {
    "graduated_ranges": [tier(0, "0.5", "2"), tier("0.5", "2.5", "1"), tier("2.5", None, "0.5")]
}
# MISSION: "$0.02 per 1,000 tokens after 1,000,000 included" and "$0.01 per 1,000 after 500,000".
INCLUDED_1M = {"graduated_ranges": [tier(0, 1_000_000, "0"), tier(1_000_001, None, "0.00002")]}
INCLUDED_500K = {"graduated_ranges": [tier(0, 500_000, "0"), tier(500_001, None, "0.00001")]}
PACKAGE_1M = {"amount": "0.02", "package_size": 1000, "free_units": 1_000_000}
VOLUME = {
    "volume_ranges": [
        tier(0, 100, "1"),
        tier(101, 1000, "0.5", "10"),
        tier(1001, None, "0.1", "50"),
    ]
}
PACKAGE = {"amount": "5", "package_size": 100, "free_units": 0}
PACKAGE_FREE = {"amount": "5", "package_size": 100, "free_units": 50}
PERCENT = {"rate": "2", "fixed_amount": "0.5"}
GRAD_PERCENT = {
    "graduated_percentage_ranges": [
        tier(0, 1000, "1", key="rate"),
        tier(1001, None, "0.5", "2", key="rate"),
    ]
}

CASES = [
    # standard
    ("standard", {"amount": "0.002"}, usage(1500), "3"),
    ("standard", {"amount": "0.002"}, usage("0.5"), "0.001"),
    ("standard", {"amount": "0.002"}, usage(0), "0"),
    ("standard", {"amount": "0.002"}, usage(-5), "0"),
    ("standard", {"amount": "0.002"}, usage(10**12), "2000000000"),
    # graduated, integer-step ranges
    ("graduated", CONTRACT, usage(2000), "15.00"),
    ("graduated", CONTRACT, usage(0), "0"),
    ("graduated", CONTRACT, usage(1000), "10"),
    ("graduated", CONTRACT, usage(1001), "10.005"),
    ("graduated", CONTRACT, usage("0.5"), "0.005"),
    ("graduated", CONTRACT, usage("1000.5"), "10.0025"),
    ("graduated", CONTRACT, usage(10**12), "5000000005"),
    # graduated with flat amounts: each reached tier adds its flat amount
    ("graduated", WITH_FLATS, usage(0), "0"),
    ("graduated", WITH_FLATS, usage(1), "11"),
    ("graduated", WITH_FLATS, usage(100), "110"),
    ("graduated", WITH_FLATS, usage(101), "115.5"),
    ("graduated", WITH_FLATS, usage(200), "165"),
    ("graduated", WITH_FLATS, usage(250), "171"),
    # graduated, touching decimal ranges
    ("graduated", TOUCHING, usage("0.5"), "1"),
    ("graduated", TOUCHING, usage(1), "1.5"),
    ("graduated", TOUCHING, usage(3), "3.25"),
    # MISSION hybrid examples
    ("graduated", INCLUDED_1M, usage(1_500_000), "10.00"),
    ("graduated", INCLUDED_1M, usage(1_000_000), "0"),
    ("graduated", INCLUDED_500K, usage(734_000), "2.34"),
    ("package", PACKAGE_1M, usage(1_500_000), "10.00"),
    ("package", PACKAGE_1M, usage(1_500_001), "10.02"),
    ("package", PACKAGE_1M, usage(1_000_000), "0"),
    # volume: all units at the rate of the tier holding the total
    ("volume", VOLUME, usage(0), "0"),
    ("volume", VOLUME, usage(100), "100"),
    ("volume", VOLUME, usage("100.5"), "60.25"),
    ("volume", VOLUME, usage(101), "60.5"),
    ("volume", VOLUME, usage(1000), "510"),
    ("volume", VOLUME, usage(1001), "150.1"),
    ("volume", VOLUME, usage(10**12), "100000000050"),
    # package: a started package is billed in full
    ("package", PACKAGE, usage(0), "0"),
    ("package", PACKAGE, usage("0.5"), "5"),
    ("package", PACKAGE, usage(1), "5"),
    ("package", PACKAGE, usage(100), "5"),
    ("package", PACKAGE, usage(101), "10"),
    ("package", PACKAGE, usage(250), "15"),
    ("package", PACKAGE_FREE, usage(50), "0"),
    ("package", PACKAGE_FREE, usage(51), "5"),
    ("package", PACKAGE_FREE, usage(150), "5"),
    ("package", PACKAGE_FREE, usage("150.5"), "10"),
    # percentage: 2% + 0.5 per event
    ("percentage", PERCENT, usage(1000, events_count=10), "25"),
    ("percentage", {"rate": "1"}, usage("12345.67", events_count=4), "123.4567"),
    ("percentage", PERCENT, usage(0, events_count=3), "0"),  # Lago: no fixed fee without units
    (  # the first 3 events (150 units) are free: 850 * 2% + 7 * 0.5
        "percentage",
        {**PERCENT, "free_units_per_events": 3},
        usage(1000, events_count=10, first_events_total=D(150)),
        "20.5",
    ),
    (  # 200 units free: 800 * 2% + 10 * 0.5
        "percentage",
        {**PERCENT, "free_units_per_total_aggregation": "200"},
        usage(1000, events_count=10),
        "21",
    ),
    (  # both: the 100 free units run out before the 3 free events (150)
        "percentage",
        {**PERCENT, "free_units_per_events": 3, "free_units_per_total_aggregation": "100"},
        usage(1000, events_count=10, first_events_total=D(150)),
        "21.5",
    ),
    (  # both: the 3 free events (150) run out before the 500 free units
        "percentage",
        {**PERCENT, "free_units_per_events": 3, "free_units_per_total_aggregation": "500"},
        usage(1000, events_count=10, first_events_total=D(150)),
        "20.5",
    ),
    (  # more free units than usage: only the fixed fees
        "percentage",
        {**PERCENT, "free_units_per_total_aggregation": "2000"},
        usage(1000, events_count=10),
        "5",
    ),
    # graduated_percentage: 1% up to 1000, then 0.5% + flat 2
    ("graduated_percentage", GRAD_PERCENT, usage(0), "0"),
    ("graduated_percentage", GRAD_PERCENT, usage(500), "5"),
    ("graduated_percentage", GRAD_PERCENT, usage(1000), "10"),
    ("graduated_percentage", GRAD_PERCENT, usage(2000), "17"),
    # dynamic: the events' own amounts
    ("dynamic", {}, usage(100, precise_total=D("12.345")), "12.345"),
    ("dynamic", {}, usage(0, precise_total=D(3)), "3"),
    ("dynamic", {}, usage(5), "0"),
]


@pytest.mark.parametrize(("model", "properties", "usage_input", "expected"), CASES)
def test_hand_computed_amounts(model, properties, usage_input, expected):
    assert price(model, properties, usage_input).amount == D(expected)


def test_unit_amount_is_amount_over_units():
    assert price("graduated", CONTRACT, usage(2000)).unit_amount == D("0.0075")
    assert price("dynamic", {}, usage(100, precise_total=D("12.345"))).unit_amount == D("0.12345")
    assert price("dynamic", {}, usage(0, precise_total=D(3))).unit_amount == 0
    assert price("standard", {"amount": "1"}, usage(0)).unit_amount == 0


def test_graduated_tier_lines():
    result = price("graduated", CONTRACT, usage("1000.5"))
    assert result.tiers == (
        TierLine(D(0), D(1000), D(1000), D("0.01"), D(0), D(10)),
        TierLine(D(1001), None, D("0.5"), D("0.005"), D(0), D("0.0025")),
    )
    assert result.units == D("1000.5")


def test_graduated_at_zero_shows_the_first_tier_empty():
    result = price("graduated", WITH_FLATS, usage(0))
    empty_first_tier = TierLine(D(0), D(100), D(0), D(1), D(0), D(0))
    assert result == PricingResult(D(0), D(0), D(0), (empty_first_tier,))


def test_volume_tier_line():
    (line,) = price("volume", VOLUME, usage(101)).tiers
    assert line == TierLine(D(101), D(1000), D(101), D("0.5"), D(10), D("60.5"))


def test_package_details():
    details = price("package", PACKAGE_1M, usage(1_500_001)).details
    assert details == {"free_units": D(1_000_000), "paid_units": D(500_001), "packages": 501}


def test_percentage_details():
    result = price(
        "percentage",
        {**PERCENT, "free_units_per_events": 3},
        usage(1000, events_count=10, first_events_total=D(150)),
    )
    assert result.details == {
        "free_units": D(150),
        "paid_units": D(850),
        "free_events": 3,
        "paid_events": 7,
        "percentage_amount": D(17),
        "fixed_fees": D("3.5"),
    }


MIN_MAX = {"rate": "1", "fixed_amount": "0", "per_transaction_min_amount": "0.5"}


@pytest.mark.parametrize(
    ("properties", "values", "expected", "adjustment"),
    [
        # fees 0.1 -> 0.5, 1, 10 -> 3
        ({**MIN_MAX, "per_transaction_max_amount": "3"}, [10, 100, 1000], "4.5", "-6.6"),
        # the first event is free; 1 + 0.2 = 1.2, 10 + 0.2 -> 3
        (
            {
                **MIN_MAX,
                "fixed_amount": "0.2",
                "per_transaction_max_amount": "3",
                "free_units_per_events": 1,
            },
            [10, 100, 1000],
            "4.2",
            "-7.2",
        ),
        # 150 free units: 100 free, then 50 paid (0.5 -> min 1), 1000 -> 10
        (
            {
                **MIN_MAX,
                "per_transaction_min_amount": "1",
                "free_units_per_total_aggregation": "150",
            },
            [100, 100, 1000],
            "11",
            "0.5",
        ),
        # 1 free event reached first: 40 -> 0.4 -> min 1, 1000 -> 10
        (
            {
                **MIN_MAX,
                "per_transaction_min_amount": "1",
                "free_units_per_events": 1,
                "free_units_per_total_aggregation": "150",
            },
            [100, 40, 1000],
            "11",
            "0.6",
        ),
        # 2 free events (140 units) reached before the 150 free units: only 1000 -> 10
        (
            {
                **MIN_MAX,
                "per_transaction_min_amount": "1",
                "free_units_per_events": 2,
                "free_units_per_total_aggregation": "150",
            },
            [100, 40, 1000],
            "10",
            "0",
        ),
        # no max: 1000 -> 10 stays; a zero or negative value is not charged
        (MIN_MAX, [0, -5, 1000], "10", "0"),
    ],
)
def test_percentage_with_per_transaction_min_max(properties, values, expected, adjustment):
    values = tuple(D(v) for v in values)
    result = price(
        "percentage",
        properties,
        usage(sum(values), events_count=len(values), per_event_values=values),
    )
    assert result.amount == D(expected)
    assert result.details["min_max_adjustment_total_amount"] == D(adjustment)


def test_percentage_min_max_needs_per_event_values():
    with pytest.raises(ValueError, match="per_event_values"):
        price("percentage", MIN_MAX, usage(10, events_count=1))


def test_percentage_per_transaction():
    properties = {**MIN_MAX, "fixed_amount": "0.1", "per_transaction_max_amount": "2"}
    assert percentage_per_transaction(D(10), properties) == D("0.5")  # 0.2 -> min
    assert percentage_per_transaction(D(100), properties) == D("1.1")
    assert percentage_per_transaction(D(1000), properties) == D(2)  # 10.1 -> max
    assert percentage_per_transaction(D(100), {"rate": "1"}) == D(1)


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="custom"):
        price("custom", {}, usage(1))


def test_grouping_keys_are_ignored():
    properties = {"amount": "2", "pricing_group_keys": ["region"], "grouped_by": ["region"]}
    assert price("standard", properties, usage(3)).amount == 6


@pytest.mark.parametrize(
    ("units", "function", "precision", "expected"),
    [
        ("2.5", "round", 0, "3"),
        ("-2.5", "round", 0, "-3"),
        ("2.45", "round", 1, "2.5"),
        ("2.44", "round", 1, "2.4"),
        ("2.41", "ceil", 1, "2.5"),
        ("-2.41", "ceil", 1, "-2.4"),
        ("2.49", "floor", 1, "2.4"),
        ("-2.41", "floor", 1, "-2.5"),
        ("125", "round", -1, "130"),
        ("124", "round", -1, "120"),
        ("121", "ceil", -1, "130"),
        ("129", "floor", -1, "120"),
        ("1234.5", "round", -2, "1200"),
        ("1.23456", None, 2, "1.23456"),
    ],
)
def test_round_units(units, function, precision, expected):
    rounded = round_units(D(units), function, precision)
    assert rounded == D(expected)
    assert str(rounded) == expected  # no exponent for negative precisions


def test_round_units_refuses_unknown_function():
    with pytest.raises(ValueError, match="half"):
        round_units(D(1), "half", 0)


# --- Hypothesis properties ---

units_st = st.decimals(min_value=-1000, max_value=10**12, places=3)
price_st = st.decimals(min_value=0, max_value=1000, places=6).map(str)


@st.composite
def ranges_st(draw, key: str = "per_unit_amount") -> list[dict]:
    """Valid tiers, integer-step or touching, the last one open."""
    bounds = sorted(set(draw(st.lists(st.integers(1, 10**9), max_size=4))))
    touching = draw(st.booleans())
    ranges, lower = [], 0
    for index, to_value in enumerate([*bounds, None]):
        from_value = lower if touching or index == 0 else lower + 1
        ranges.append(tier(from_value, to_value, draw(price_st), draw(price_st), key=key))
        lower = to_value
    return ranges


package_st = st.fixed_dictionaries(
    {
        "amount": price_st,
        "package_size": st.integers(1, 10**6),
        "free_units": st.integers(0, 10**6),
    }
)


@st.composite
def percentage_st(draw) -> dict:
    properties = {
        "rate": draw(price_st),
        "fixed_amount": draw(price_st),
        "free_units_per_events": draw(st.none() | st.integers(0, 5)),
        "free_units_per_total_aggregation": draw(st.none() | price_st),
    }
    low, high = sorted(draw(st.lists(price_st.map(D), min_size=2, max_size=2)))
    if draw(st.booleans()):
        properties["per_transaction_min_amount"] = str(low)
    if draw(st.booleans()):
        properties["per_transaction_max_amount"] = str(high)
    return properties


def model_and_properties() -> st.SearchStrategy:
    return st.one_of(
        st.tuples(st.just("standard"), st.fixed_dictionaries({"amount": price_st})),
        st.tuples(st.just("graduated"), ranges_st().map(lambda r: {"graduated_ranges": r})),
        st.tuples(st.just("volume"), ranges_st().map(lambda r: {"volume_ranges": r})),
        st.tuples(st.just("package"), package_st),
        st.tuples(st.just("percentage"), percentage_st()),
        st.tuples(
            st.just("graduated_percentage"),
            ranges_st("rate").map(lambda r: {"graduated_percentage_ranges": r}),
        ),
        st.tuples(st.just("dynamic"), st.just({})),
    )


@given(ranges_st(), units_st)
def test_graduated_amount_is_the_sum_of_its_tiers(ranges, units):
    result = price("graduated", {"graduated_ranges": ranges}, usage(units))
    assert result.amount == sum(line.amount for line in result.tiers)
    assert sum(line.units for line in result.tiers) == max(units, 0)


@given(ranges_st(), units_st)
def test_volume_prices_all_units_in_one_tier(ranges, units):
    result = price("volume", {"volume_ranges": ranges}, usage(units))
    (line,) = result.tiers
    assert line.units == result.units == max(units, 0)
    # the first tier whose to_value holds the units (the previous to_value is below them)
    chosen = next(r for r in ranges if r["to_value"] is None or result.units <= r["to_value"])
    assert line.from_value == D(str(chosen["from_value"]))
    flat = D(chosen["flat_amount"]) if result.units > 0 else 0
    assert result.amount == result.units * D(chosen["per_unit_amount"]) + flat


@given(package_st, units_st)
def test_package_amount(properties, units):
    result = price("package", properties, usage(units))
    paid = max(Fraction(units) - properties["free_units"], 0)
    packages = math.ceil(paid / properties["package_size"])
    assert result.amount == packages * D(properties["amount"])


@given(model_and_properties(), units_st, st.lists(st.decimals(-100, 10**6, places=2), max_size=8))
def test_amount_is_never_negative(model_props, units, values):
    model, properties = model_props
    usage_input = usage(
        units,
        events_count=len(values),
        first_events_total=sum((v for v in values[:3] if v > 0), D(0)),
        precise_total=D(units),
        per_event_values=tuple(values),
    )
    result = price(model, properties, usage_input)
    assert result.amount >= 0
    assert result.units >= 0
    assert result.unit_amount >= 0


@pytest.mark.parametrize("model", ["standard", "graduated", "package"])
@given(data=st.data())
def test_monotone_in_units(model, data):
    properties = data.draw(
        {
            "standard": st.fixed_dictionaries({"amount": price_st}),
            "graduated": ranges_st().map(lambda r: {"graduated_ranges": r}),
            "package": package_st,
        }[model]
    )
    low, high = sorted(data.draw(st.lists(units_st, min_size=2, max_size=2)))
    lower_amount = price(model, properties, usage(low)).amount
    assert lower_amount <= price(model, properties, usage(high)).amount


@given(price_st, units_st)
def test_single_open_graduated_tier_is_standard(unit_price, units):
    graduated = {"graduated_ranges": [tier(0, None, unit_price)]}
    assert price("graduated", graduated, usage(units)).amount == (
        price("standard", {"amount": unit_price}, usage(units)).amount
    )
