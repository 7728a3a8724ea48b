"""Prorated charges in the pure pricing engine: hand-computed tables, Lago's own worked examples,
and Hypothesis properties. A prorated unit is billed units x days present / period days x price;
the fee's units are the full units and its unit amount the amount per full unit (Lago)."""

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.money import to_minor_units
from plans.pricing import Proration, UsageInput, price

D = Decimal
DOC_URL = "https://getlago.com/docs/guide/plans/charges/prorated-vs-full.md"


def prorated(model, properties, full_units, period_days, unit_days, positions=None, peak=0):
    usage = UsageInput(
        units=D(full_units),
        proration=Proration(
            period_days=period_days,
            unit_days=tuple((days, D(units)) for days, units in unit_days),
            positions=positions,
            peak=D(peak),
        ),
    )
    return price(model, properties, usage)


def cents(result) -> int:
    return to_minor_units(result.amount, "USD")


def tier(from_value, to_value, unit_price, flat="0") -> dict:
    return {
        "from_value": from_value,
        "to_value": to_value,
        "per_unit_amount": unit_price,
        "flat_amount": flat,
    }


SEAT = {"amount": "10"}


# --- standard ---------------------------------------------------------------------------------


def test_the_issues_seat_added_22_days_before_the_end_of_a_30_day_period():
    result = prorated("standard", SEAT, 1, 30, [(22, 1)])
    assert result.amount == D(220) / D(30)  # 7.333...: one division, last
    assert cents(result) == 733
    assert (result.units, result.unit_amount) == (D(1), D(220) / D(30))  # Lago's fee units
    assert result.details == {"prorated_units": D(22) / D(30), "period_days": 30}
    [line] = result.prorated
    assert (line.units, line.days, line.period_days, line.per_unit_amount) == (1, 22, 30, 10)


def test_lagos_docs_page_seat_added_on_july_10th():
    # DOC_URL, "Prorated charges": "(1 Seat x $10), used for 22 days = $7.33". July 10-31 is
    # 22 days, but July has 31, so the page's $7.33 divides by 30. Its rule on the real month:
    # 22/31 x $10 = $7.0967... = $7.10; its arithmetic on a 30-day month gives its $7.33.
    assert cents(prorated("standard", SEAT, 1, 31, [(22, 1)])) == 710
    assert cents(prorated("standard", SEAT, 1, 30, [(22, 1)])) == 733


def test_lagos_docs_page_fully_billed_seat_is_the_full_price():
    # DOC_URL, "Fully-billed charges": "(1 Seat x $10), used for 22 days = $10".
    assert cents(price("standard", SEAT, UsageInput(units=D(1)))) == 1000


@pytest.mark.parametrize(
    ("period_days", "unit_days", "full_units", "expected_cents", "why"),
    [
        (30, [(30, 3)], 3, 3000, "3 seats carried over: the whole period, the full price"),
        (30, [(30, 3), (22, 1)], 4, 3733, "3 carried + 1 for 22 days = 30 + 7.333"),
        # a sum metric: +2 on day 1 (30 days left), -1 with 10 days left: 2x30 - 10 = 50 days
        (30, [(30, 2), (10, -1)], 1, 1667, "1 seat the whole month, 1 for 20 days = 16.666"),
        (30, [(30, 1), (1, -1)], 0, 967, "removed on the last day: 29 of 30 days = 9.666"),
        (28, [(14, 1)], 1, 500, "February 2023: 14 of 28 days = 5.00"),
        (29, [(10, 1)], 1, 345, "February 2024: 10 of 29 days = 3.448 -> 3.45"),
        (31, [(31, 2), (1, 1)], 3, 2032, "31-day month, 1 seat on the last day: 20 + 0.3225"),
        (30, [], 0, 0, "no usage"),
    ],
)
def test_standard_table(period_days, unit_days, full_units, expected_cents, why):
    result = prorated("standard", SEAT, full_units, period_days, unit_days)
    assert cents(result) == expected_cents, why


def test_a_half_cent_rounds_half_up_once_per_fee():
    # 3 seats x 15/30 days x $0.03 = $0.045 exactly: half-up gives 5 cents (half-even would
    # give 4). The amount stays exact until core.money rounds it.
    result = prorated("standard", {"amount": "0.03"}, 3, 30, [(15, 3)])
    assert result.amount == D("0.045")
    assert cents(result) == 5
    # 1 x 1/30 x $0.15 = $0.005: one half cent, billed as one cent
    assert cents(prorated("standard", {"amount": "0.15"}, 1, 30, [(1, 1)])) == 1


def test_a_removed_unit_still_bills_its_days():
    # full units 0 at the end, 1 seat for 12 days: billed, fee units 0 (Lago)
    result = prorated("standard", SEAT, 0, 30, [(30, 1), (18, -1)])
    assert (cents(result), result.units, result.unit_amount) == (400, 0, 0)


def test_the_metrics_rounding_applies_to_the_prorated_units():
    usage = UsageInput(units=D(1), proration=Proration(30, ((22, D(1)),), rounding=("ceil", 0)))
    assert price("standard", SEAT, usage).amount == 10  # ceil(0.733) = 1 unit


def test_only_standard_graduated_and_volume_can_be_prorated():
    with pytest.raises(ValueError, match="cannot be prorated"):
        prorated("package", {"amount": "1", "package_size": 1}, 1, 30, [(30, 1)])


# --- volume -----------------------------------------------------------------------------------

VOLUME = {"volume_ranges": [tier(0, 10, "10"), tier(11, None, "8", "5")]}


@pytest.mark.parametrize(
    ("full_units", "unit_days", "expected_cents", "why"),
    [
        # Lago: the tier of the full units (12 -> 2nd), prorated units at its price, plus flat
        (12, [(30, 10), (15, 2)], 9300, "(300 + 30)/30 = 11 units x $8 + $5 flat = 93"),
        (10, [(30, 10)], 10000, "whole period in the 1st tier: 10 x $10"),
        (11, [(30, 10), (1, 1)], 8527, "(300 + 1)/30 x $8 + $5 = 85.2666"),
        (0, [(30, 2), (20, -2)], 667, "all removed: 20 unit-days / 30 x $10 (1st tier)"),
    ],
)
def test_volume_table(full_units, unit_days, expected_cents, why):
    assert cents(prorated("volume", VOLUME, full_units, 30, unit_days)) == expected_cents, why


# --- graduated --------------------------------------------------------------------------------

GRADUATED = {"graduated_ranges": [tier(0, 5, "10", "100"), tier(6, None, "5", "50")]}


@pytest.mark.parametrize(
    ("full_units", "unit_days", "peak", "period", "expected", "case"),
    [
        # Lago's spec/services/charge_models/prorated_graduated_service_spec.rb: its events
        # (full units, prorated units) written as (days, units) of a 30- or 31-day period.
        (14, [(21, 5), (16, 5), (6, 10), (11, -6)], 20, 30, "197.33", "returns expected amount"),
        (11, [(21, 2), (16, 5), (6, 10), (11, -6)], 17, 30, "184.33", "event across two tiers"),
        (0, [(22, 1), (12, 4), (7, 1), (5, -5), (2, -1)], 6, 31, "165.81", "final units zero"),
        (3, [(21, 5), (15, -2)], 5, 30, "125", "negative event that changes range"),
        (3, [(21, 4), (15, 2), (6, -3)], 6, 30, "180.50", "overflow and changing ranges"),
        (13, [(21, 5), (15, 2), (12, -4), (6, 10)], 13, 30, "190", "overflows both directions"),
        (-95, [(12, 5), (10, -100)], 5, 30, "0", "negative total amount: zero"),
        (1, [(21, 1)], 1, 30, "107", "only one range used"),
        (75, [(30, 75)], 75, 30, "370", "two overflows (3-tier case below)"),
    ],
)
def test_lagos_prorated_graduated_examples(full_units, unit_days, peak, period, expected, case):
    properties = GRADUATED
    if case.startswith("two overflows"):
        properties = {
            "graduated_ranges": [
                tier(0, 5, "10", "100"),
                tier(6, 15, "5", "50"),
                tier(16, None, "2"),
            ]
        }
    result = prorated("graduated", properties, full_units, period, unit_days, peak=peak)
    assert result.amount.quantize(D("0.01")) == D(expected), case


def test_graduated_units_fill_the_tiers_in_the_order_they_came():
    # 3 seats carried (30 days) then 4 added with 15 days left; tiers 1-5 at $10, 6+ at $5:
    # seats 1-3: 3 x 30/30 x 10 = 30; seats 4-5: 2 x 15/30 x 10 = 10; seats 6-7: 2 x 15/30 x 5 = 5
    result = prorated("graduated", GRADUATED, 7, 30, [(30, 3), (15, 4)], peak=7)
    assert result.amount == D(45) + 150  # + both flat amounts (7 seats reached the 2nd tier)
    assert [(t.units, t.amount) for t in result.tiers] == [(D(4), D(140)), (D(1), D(55))]
    assert [(p.tier, p.units, p.days) for p in result.prorated] == [
        (0, 3, 30),
        (0, 2, 15),
        (1, 2, 15),
    ]


def test_graduated_unique_count_positions_follow_lagos_rule():
    # Seat A present 20 days as the 1st seat; seat B added second, present 20 days; A removed.
    # Lago keeps B at the 2nd seat's price: 20/30 x 10 + 20/30 x 5 = 10.00
    tiers = {"graduated_ranges": [tier(0, 1, "10"), tier(2, None, "5")]}
    positions = ((D(1), 20, 1), (D(2), 20, 1))
    result = prorated("graduated", tiers, 1, 30, [(20, 2)], positions=positions, peak=2)
    assert result.amount == D(10)


# --- properties -------------------------------------------------------------------------------

period_st = st.sampled_from([7, 28, 29, 30, 31, 90, 181, 365, 366])
price_st = st.decimals(min_value=0, max_value=1000, places=4)


@st.composite
def models_st(draw):
    unit_price = draw(price_st)
    kind = draw(st.sampled_from(["standard", "graduated", "volume"]))
    if kind == "standard":
        return kind, {"amount": str(unit_price)}
    bounds = sorted(set(draw(st.lists(st.integers(1, 50), max_size=3))))
    lows = [0, *bounds]
    ranges = [
        tier(low, high, str(draw(price_st)), str(draw(price_st)))
        for low, high in zip(lows, [*bounds, None], strict=True)
    ]
    return kind, {f"{kind}_ranges": ranges}


@given(models_st(), period_st, st.integers(0, 60))
def test_units_present_the_whole_period_bill_the_unprorated_price(model, period_days, units):
    kind, properties = model
    full = price(kind, properties, UsageInput(units=D(units)))
    whole = prorated(kind, properties, units, period_days, [(period_days, units)], peak=units)
    assert whole.amount == full.amount
    assert whole.units == full.units


@given(
    models_st(),
    period_st,
    st.lists(st.tuples(st.integers(1, 366), st.integers(1, 20)), max_size=6),
)
def test_prorated_never_exceeds_the_full_price(model, period_days, additions):
    """Units added along the period (days descending: time order) bill at most the full price
    of the units at the end, and each unit at least nothing."""
    kind, properties = model
    unit_days = sorted(((min(d, period_days), n) for d, n in additions), reverse=True)
    units = sum(n for _, n in unit_days)
    full = price(kind, properties, UsageInput(units=D(units)))
    result = prorated(kind, properties, units, period_days, unit_days, peak=units)
    assert 0 <= result.amount <= full.amount


@given(st.integers(1, 366), st.integers(0, 366), price_st, st.integers(0, 50))
def test_standard_bills_exact_unit_days_rounded_once_half_up(period_days, days, unit_price, units):
    """The billed cents are the exact fraction units x days x price / period days, rounded
    half up once: no intermediate rounding of the prorated units or of the day ratio."""
    days = min(days, period_days)
    result = prorated("standard", {"amount": str(unit_price)}, units, period_days, [(days, units)])
    exact = Fraction(units * days) * Fraction(unit_price) * 100 / period_days
    assert cents(result) == math.floor(exact + Fraction(1, 2))
