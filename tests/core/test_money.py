"""The money helper: currency exponents from ISO 4217, half-up rounding to minor units."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import (
    UnknownCurrency,
    currency_exponent,
    from_minor_units,
    is_known_currency,
    precise_minor_units,
    round_minor_units,
    round_places,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("currency", "exponent"),
    [("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("KWD", 3), ("BHD", 3), ("TND", 3)],
)
def test_exponent_comes_from_iso_4217(currency, exponent):
    assert currency_exponent(currency) == exponent


@pytest.mark.parametrize(
    ("amount", "currency", "cents"),
    [
        ("0.005", "USD", 1),  # half rounds up
        ("0.0049", "USD", 0),
        ("-0.005", "USD", -1),  # half-up is away from zero
        ("12.345", "USD", 1235),
        ("100.5", "JPY", 101),
        ("1.2345", "KWD", 1235),
        ("1.2344", "KWD", 1234),
        ("0", "EUR", 0),
    ],
)
def test_to_minor_units_rounds_half_up(amount, currency, cents):
    assert to_minor_units(Decimal(amount), currency) == cents


def test_precise_and_back_are_exact():
    assert precise_minor_units(Decimal("0.00002"), "USD") == Decimal("0.002")
    assert from_minor_units(1235, "KWD") == Decimal("1.235")


def test_unknown_currency_is_refused():
    with pytest.raises(UnknownCurrency):
        currency_exponent("XYZ")


@given(
    st.decimals(min_value=-(10**9), max_value=10**9, allow_nan=False, places=6),
    st.sampled_from(["USD", "JPY", "KWD"]),
)
def test_rounding_is_never_off_by_more_than_half_a_minor_unit(amount, currency):
    cents = to_minor_units(amount, currency)
    assert abs(from_minor_units(cents, currency) - amount) <= from_minor_units(
        Decimal("0.5"), currency
    )


# --- mutation testing (docs/testing.md, "Mutation testing"): the cases mutants survived -------


def test_unknown_currency_is_named_in_the_error_and_is_not_known():
    with pytest.raises(UnknownCurrency) as raised:
        currency_exponent("XYZ")
    assert raised.value.args == ("XYZ",)
    assert is_known_currency("XYZ") is False
    assert is_known_currency("usd") is True  # codes are case-insensitive


@pytest.mark.parametrize(
    ("minor_units", "rounded"),
    [
        ("1500.5", 1501),  # the half rounds up
        ("1500.4999", 1500),
        ("-1500.5", -1501),  # half-up is away from zero
        ("2.5", 3),
        ("0.5", 1),
    ],
)
def test_round_minor_units_rounds_half_up_to_a_whole_minor_unit(minor_units, rounded):
    assert round_minor_units(Decimal(minor_units)) == rounded


@pytest.mark.parametrize(
    ("value", "places", "stored"),
    [
        ("1.234565", 5, "1.23457"),  # Lago's precise cents: 5 places, the half up
        ("1.234564999", 5, "1.23456"),
        ("-0.000005", 5, "-0.00001"),
        ("12.345", 2, "12.35"),
        ("7.5", 0, "8"),
    ],
)
def test_round_places_keeps_the_given_decimals_half_up(value, places, stored):
    result = round_places(Decimal(value), places)
    assert result == Decimal(stored)
    assert result.as_tuple().exponent == -places


def test_round_places_defaults_to_lagos_five_places():
    assert round_places(Decimal("33.333333333")) == Decimal("33.33333")
    assert round_places(Decimal("2")).as_tuple().exponent == -5
