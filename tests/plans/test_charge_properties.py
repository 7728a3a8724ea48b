"""Charge properties: Lago's reason codes for invalid ones, the normalised form of valid ones."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans.charge_properties import CHARGE_MODELS, validate_properties


def tier(from_value, to_value, unit_price="1", flat="0", key="per_unit_amount") -> dict:
    return {"from_value": from_value, "to_value": to_value, key: unit_price, "flat_amount": flat}


def priced_by(ranges: list, price_key: str) -> list:
    """The same ranges with the price under `price_key` (graduated_percentage uses `rate`)."""
    return [
        tier(r["from_value"], r["to_value"], r["per_unit_amount"], r["flat_amount"], price_key)
        if isinstance(r, dict)
        else r
        for r in ranges
    ]


def test_charge_models():
    assert CHARGE_MODELS == (
        "standard",
        "graduated",
        "volume",
        "package",
        "percentage",
        "graduated_percentage",
        "dynamic",
    )


def test_unknown_model():
    assert validate_properties("custom", {}) == ({}, {"charge_model": ["value_is_invalid"]})


def test_properties_must_be_an_object():
    assert validate_properties("standard", ["0.1"])[1] == {"properties": ["value_is_invalid"]}


# --- standard ---


@pytest.mark.parametrize(
    ("given_amount", "stored"),
    [
        ("0.02", "0.02"),
        ("0.020", "0.020"),
        (3, "3"),
        (0.1, "0.1"),
        ("0", "0"),
        ("1e-7", "0.0000001"),
    ],
)
def test_standard_valid(given_amount, stored):
    assert validate_properties("standard", {"amount": given_amount}) == ({"amount": stored}, {})


@pytest.mark.parametrize(
    "properties",
    [
        None,
        {},
        {"amount": None},
        {"amount": "-1"},
        {"amount": "abc"},
        {"amount": ""},
        {"amount": "NaN"},
        {"amount": "Infinity"},
        {"amount": float("inf")},
        {"amount": True},
        {"amount": ["1"]},
        {"amount": "1e999999"},
    ],
)
def test_standard_invalid_amount(properties):
    assert validate_properties("standard", properties)[1] == {"amount": ["invalid_amount"]}


def test_unknown_keys_are_dropped():
    normalised, errors = validate_properties("standard", {"amount": "1", "rate": "2", "x": 1})
    assert (normalised, errors) == ({"amount": "1"}, {})


def test_pricing_group_keys_are_kept():
    properties = {"amount": "1", "pricing_group_keys": ["region", "model"]}
    assert validate_properties("standard", properties) == (properties, {})


def test_grouped_by_becomes_pricing_group_keys():
    normalised, errors = validate_properties("standard", {"amount": "1", "grouped_by": ["region"]})
    assert (normalised, errors) == ({"amount": "1", "pricing_group_keys": ["region"]}, {})


@pytest.mark.parametrize("keys", ["region", [""], ["region", 3], [None], {"a": 1}])
@pytest.mark.parametrize("name", ["pricing_group_keys", "grouped_by"])
def test_invalid_group_keys(name, keys):
    errors = validate_properties("standard", {"amount": "1", name: keys})[1]
    assert errors == {"pricing_group_keys": ["invalid_type"]}


# --- graduated, volume, graduated_percentage ---

RANGE_MODELS = [
    ("graduated", "graduated_ranges", "per_unit_amount", "invalid_amount"),
    ("volume", "volume_ranges", "per_unit_amount", "invalid_amount"),
    ("graduated_percentage", "graduated_percentage_ranges", "rate", "invalid_rate"),
]


@pytest.mark.parametrize(("model", "key", "price_key", "price_code"), RANGE_MODELS)
def test_ranges_normalised(model, key, price_key, price_code):
    given_ranges = [
        {"from_value": "0", "to_value": 1000.0, price_key: 0.01},
        {"from_value": 1001, "to_value": None, price_key: "0.005", "flat_amount": 2, "x": 1},
    ]
    assert validate_properties(model, {key: given_ranges}) == (
        {
            key: [
                {"from_value": 0, "to_value": 1000, price_key: "0.01", "flat_amount": "0"},
                {"from_value": 1001, "to_value": None, price_key: "0.005", "flat_amount": "2"},
            ]
        },
        {},
    )


@pytest.mark.parametrize(("model", "key", "price_key", "price_code"), RANGE_MODELS)
@pytest.mark.parametrize(
    "ranges",
    [
        [tier(0, None)],  # one open tier
        [tier(0, 10), tier(11, None)],  # integer step
        [tier(0, 10), tier(11, 11), tier(12, None)],  # a one-unit integer tier
        [tier(0, "0.5"), tier("0.5", "2.5"), tier("2.5", None)],  # touching decimal bounds
        [tier(0, 10), tier(10, 20), tier(21, None)],  # both styles mixed
    ],
)
def test_valid_ranges(model, key, price_key, price_code, ranges):
    normalised, errors = validate_properties(model, {key: priced_by(ranges, price_key)})
    assert errors == {}
    assert normalised[key][0]["from_value"] == 0
    assert normalised[key][-1]["to_value"] is None


@pytest.mark.parametrize(("model", "key", "price_key", "price_code"), RANGE_MODELS)
@pytest.mark.parametrize("ranges", [None, [], "0..10", {"from_value": 0}])
def test_missing_ranges(model, key, price_key, price_code, ranges):
    assert validate_properties(model, {key: ranges})[1] == {key: [f"missing_{key}"]}
    assert validate_properties(model, {})[1] == {key: [f"missing_{key}"]}


@pytest.mark.parametrize(("model", "key", "price_key", "price_code"), RANGE_MODELS)
@pytest.mark.parametrize(
    "ranges",
    [
        [tier(1, None)],  # does not start at 0
        [tier(0, 10)],  # last tier not open
        [tier(0, None), tier(1, None)],  # open tier before the last
        [tier(0, 10), tier(12, None)],  # gap
        [tier(0, 10), tier(9, None)],  # overlap
        [tier(0, 0), tier(1, None)],  # empty first tier
        [tier(0, 10), tier(10, 10), tier(11, None)],  # empty touching tier
        [tier(0, 10), tier(11, 5), tier(6, None)],  # to_value below from_value
        [tier(0, "abc"), tier(1, None)],  # to_value not a number
        [tier(-1, 10), tier(11, None)],  # negative from_value
        [tier(None, None)],  # missing from_value
        ["0-10", tier(11, None)],  # not an object
    ],
)
def test_invalid_ranges(model, key, price_key, price_code, ranges):
    errors = validate_properties(model, {key: priced_by(ranges, price_key)})[1]
    assert errors == {key: [f"invalid_{key}"]}


@pytest.mark.parametrize(("model", "key", "price_key", "price_code"), RANGE_MODELS)
@pytest.mark.parametrize("bad", ["-0.01", "x", None, True])
def test_invalid_range_prices(model, key, price_key, price_code, bad):
    ranges = [tier(0, 10, key=price_key), tier(11, None, bad, key=price_key)]
    assert validate_properties(model, {key: ranges})[1] == {key: [price_code]}
    ranges = [tier(0, 10, flat=bad, key=price_key), tier(11, None, key=price_key)]
    errors = validate_properties(model, {key: ranges})[1]
    assert errors == ({} if bad is None else {key: ["invalid_flat_amount"]})  # null flat is 0


def test_range_errors_are_collected_once_each():
    ranges = [tier(0, 10, "-1", "-1"), tier(12, None, "-1")]
    errors = validate_properties("graduated", {"graduated_ranges": ranges})[1]
    assert errors == {
        "graduated_ranges": ["invalid_amount", "invalid_flat_amount", "invalid_graduated_ranges"]
    }


def test_decimal_bounds_are_kept_as_strings():
    ranges = [tier(0, "0.50"), tier("0.50", None)]
    normalised, errors = validate_properties("volume", {"volume_ranges": ranges})
    assert errors == {}
    assert [(r["from_value"], r["to_value"]) for r in normalised["volume_ranges"]] == [
        (0, "0.50"),
        ("0.50", None),
    ]


# --- package ---


def test_package_valid():
    properties = {"amount": "0.02", "package_size": 1000, "free_units": 1_000_000}
    assert validate_properties("package", properties) == (properties, {})


def test_package_free_units_default_to_zero():
    normalised, errors = validate_properties("package", {"amount": 5, "package_size": "100"})
    assert (normalised, errors) == ({"amount": "5", "package_size": 100, "free_units": 0}, {})


@pytest.mark.parametrize(
    ("properties", "errors"),
    [
        ({"package_size": 10}, {"amount": ["invalid_amount"]}),
        ({"amount": "-1", "package_size": 10}, {"amount": ["invalid_amount"]}),
        ({"amount": "1"}, {"package_size": ["invalid_package_size"]}),
        ({"amount": "1", "package_size": 0}, {"package_size": ["invalid_package_size"]}),
        ({"amount": "1", "package_size": 2.5}, {"package_size": ["invalid_package_size"]}),
        ({"amount": "1", "package_size": True}, {"package_size": ["invalid_package_size"]}),
        (
            {"amount": "1", "package_size": 10, "free_units": -1},
            {"free_units": ["invalid_free_units"]},
        ),
        (
            {"amount": "1", "package_size": 10, "free_units": "1.5"},
            {"free_units": ["invalid_free_units"]},
        ),
    ],
)
def test_package_invalid(properties, errors):
    assert validate_properties("package", properties)[1] == errors


# --- percentage ---


def test_percentage_valid():
    properties = {
        "rate": "1.5",
        "fixed_amount": 0.5,
        "free_units_per_events": 3,
        "free_units_per_total_aggregation": "100",
        "per_transaction_min_amount": "0.1",
        "per_transaction_max_amount": "10",
    }
    assert validate_properties("percentage", properties) == (
        {**properties, "fixed_amount": "0.5"},
        {},
    )


def test_percentage_optional_nulls_are_kept():
    properties = {"rate": "1", "free_units_per_events": None, "per_transaction_max_amount": None}
    assert validate_properties("percentage", properties) == (properties, {})


@pytest.mark.parametrize(
    ("properties", "errors"),
    [
        ({}, {"rate": ["invalid_rate"]}),
        ({"rate": "-1"}, {"rate": ["invalid_rate"]}),
        ({"rate": "1", "fixed_amount": "x"}, {"fixed_amount": ["invalid_fixed_amount"]}),
        (
            {"rate": "1", "free_units_per_events": -1},
            {"free_units_per_events": ["invalid_free_units_per_events"]},
        ),
        (
            {"rate": "1", "free_units_per_events": "two"},
            {"free_units_per_events": ["invalid_free_units_per_events"]},
        ),
        (
            {"rate": "1", "free_units_per_total_aggregation": "-5"},
            {"free_units_per_total_aggregation": ["invalid_free_units_per_total_aggregation"]},
        ),
        (
            {"rate": "1", "per_transaction_min_amount": "-1"},
            {"per_transaction_min_amount": ["invalid_per_transaction_min_amount"]},
        ),
        (
            {"rate": "1", "per_transaction_max_amount": "NaN"},
            {"per_transaction_max_amount": ["invalid_per_transaction_max_amount"]},
        ),
        (
            {"rate": "1", "per_transaction_min_amount": "5", "per_transaction_max_amount": "1"},
            {"per_transaction_max_amount": ["invalid_per_transaction_max_amount"]},
        ),
    ],
)
def test_percentage_invalid(properties, errors):
    assert validate_properties("percentage", properties)[1] == errors


# --- dynamic ---


@pytest.mark.parametrize("properties", [None, {}, {"amount": "1", "anything": "else"}])
def test_dynamic_takes_no_price(properties):
    assert validate_properties("dynamic", properties) == ({}, {})


def test_dynamic_keeps_group_keys():
    properties = {"pricing_group_keys": ["provider"]}
    assert validate_properties("dynamic", properties) == (properties, {})


# --- every range shape the engine prices is accepted ---


@given(
    st.lists(st.integers(1, 10**9), max_size=4, unique=True).map(sorted),
    st.booleans(),
    st.decimals(min_value=0, max_value=1000, places=6).map(str),
)
def test_generated_ranges_are_valid(bounds, touching, unit_price):
    ranges, lower = [], 0
    for index, to_value in enumerate([*bounds, None]):
        from_value = lower if touching or index == 0 else lower + 1
        ranges.append(tier(from_value, to_value, unit_price, unit_price))
        lower = to_value
    normalised, errors = validate_properties("graduated", {"graduated_ranges": ranges})
    assert errors == {}
    bounds_of = [(r["from_value"], r["to_value"]) for r in normalised["graduated_ranges"]]
    assert bounds_of == [(r["from_value"], r["to_value"]) for r in ranges]
