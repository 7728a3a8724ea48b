"""The money helper: currency exponents from ISO 4217, half-up rounding to minor units."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import (
    UnknownCurrency,
    currency_exponent,
    from_minor_units,
    precise_minor_units,
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
