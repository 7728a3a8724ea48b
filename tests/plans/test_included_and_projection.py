"""What the portal counts usage against (included units) and the projection to period end:
hand-computed tables and properties."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans.pricing import included_units, projected_units

D = Decimal


def tiers(*rows):
    return [
        {"from_value": lo, "to_value": hi, "per_unit_amount": unit, "flat_amount": flat}
        for lo, hi, unit, flat in rows
    ]


@pytest.mark.parametrize(
    ("model", "properties", "expected"),
    [
        (
            "graduated",
            {
                "graduated_ranges": tiers(
                    (0, 1_000_000, "0", "0"), (1_000_001, None, "0.00002", "0")
                )
            },
            D(1_000_000),
        ),
        (
            "graduated",
            {
                "graduated_ranges": tiers(
                    (0, 10, "0", "0"), (11, 20, "0", "0"), (21, None, "1", "0")
                )
            },
            D(20),
        ),
        ("graduated", {"graduated_ranges": tiers((0, 10, "0", "5"), (11, None, "1", "0"))}, None),
        ("graduated", {"graduated_ranges": tiers((0, None, "0", "0"))}, None),
        (
            "graduated",
            {"graduated_ranges": tiers((0, 100, "0.5", "0"), (101, None, "0", "0"))},
            None,
        ),
        (
            "graduated_percentage",
            {
                "graduated_percentage_ranges": [
                    {"from_value": 0, "to_value": 500, "rate": "0", "flat_amount": "0"},
                    {"from_value": 501, "to_value": None, "rate": "1", "flat_amount": "0"},
                ]
            },
            D(500),
        ),
        ("package", {"amount": "1", "package_size": 10_000, "free_units": 100_000}, D(100_000)),
        ("package", {"amount": "1", "package_size": 10, "free_units": 0}, None),
        ("standard", {"amount": "0.01"}, None),
        ("volume", {"volume_ranges": tiers((0, 100, "0", "0"), (101, None, "1", "0"))}, None),
    ],
)
def test_included_units(model, properties, expected):
    assert included_units(model, properties) == expected


@pytest.mark.parametrize(
    ("units", "elapsed", "recurring", "expected"),
    [
        (D(734_000), D("0.5"), False, D(1_468_000)),
        (D(100), D("0.25"), False, D(400)),
        (D(100), D(1), False, D(100)),
        (D(7), D("0.5"), True, D(7)),  # seats stay as they are
        (D(0), D("0.1"), False, D(0)),
        (D(5), D(0), False, D(5)),  # nothing gone yet: no pace to extrapolate
    ],
)
def test_projection_table(units, elapsed, recurring, expected):
    assert projected_units(units, elapsed, recurring=recurring) == expected


@given(
    units=st.decimals(min_value=0, max_value=10**9, places=4),
    elapsed=st.decimals(min_value=D("0.001"), max_value=1, places=3),
)
def test_a_projection_is_never_below_what_is_already_used(units, elapsed):
    projected = projected_units(units, elapsed, recurring=False)
    assert projected >= units
    assert projected * elapsed == pytest.approx(units) if units else projected == 0
