"""The pricing engine's corners that mutation testing found unchecked (docs/testing.md,
"Mutation testing"): per-transaction min/max details, the database's clamped total, prorated
volume's tier line and fallbacks, prorated graduated weights, what a customer sees as included
and projected. Every number is computed by hand in the comment beside it."""

from decimal import Decimal

import pytest

from plans.pricing import (
    PricingResult,
    ProratedLine,
    Proration,
    TierLine,
    UsageInput,
    included_units,
    percentage_per_transaction,
    price,
    projected_units,
    round_units,
)

D = Decimal


def tier(from_value, to_value, unit_price, flat="0", key="per_unit_amount") -> dict:
    return {"from_value": from_value, "to_value": to_value, key: unit_price, "flat_amount": flat}


def prorated(model, properties, full_units, period_days, unit_days, positions=None, peak=0):
    usage = UsageInput(
        units=D(str(full_units)),
        proration=Proration(
            period_days=period_days,
            unit_days=tuple((days, D(str(units))) for days, units in unit_days),
            positions=positions,
            peak=D(str(peak)),
        ),
    )
    return price(model, properties, usage)


# --- percentage: one transaction, then the per-transaction min/max path ---------------------


def test_one_transaction_fee_is_value_times_rate_percent_plus_the_fixed_amount():
    # 200 x 2.5 % + 0.10 = 5.10 (rate applied as a percentage, not divided by)
    assert percentage_per_transaction(D(200), {"rate": "2.5", "fixed_amount": "0.1"}) == D("5.1")
    # a negative value counts as 0: only the fixed amount
    assert percentage_per_transaction(D(-50), {"rate": "2.5", "fixed_amount": "0.1"}) == D("0.1")


MIN_MAX = {
    "rate": "2",
    "fixed_amount": "0.5",
    "free_units_per_events": 1,
    "per_transaction_min_amount": "1",
    "per_transaction_max_amount": "3",
}


def test_min_max_amount_and_every_detail_by_hand():
    # events 50, 20, 100, 300; the first is free. Fees: 20 x 2 % + 0.5 = 0.9 -> min 1;
    # 100 -> 2.5; 300 -> 6.5 -> max 3. Amount 1 + 2.5 + 3 = 6.5; unclamped 0.9 + 2.5 + 6.5 = 9.9.
    values = (D(50), D(20), D(100), D(300))
    usage = UsageInput(units=D(470), events_count=4, per_event_values=values)
    result = price("percentage", MIN_MAX, usage)
    assert result.amount == D("6.5")
    assert result.details == {
        "free_units": D(50),
        "paid_units": D(420),
        "free_events": 1,
        "paid_events": 3,
        "percentage_amount": D("8.4"),  # 420 x 2 %
        "fixed_fees": D("1.5"),  # 3 x 0.5
        "min_max_adjustment_total_amount": D("-3.4"),  # 6.5 - 9.9
    }


def test_min_max_all_events_free_is_a_decimal_zero():
    usage = UsageInput(units=D(50), events_count=1, per_event_values=(D(50),))
    result = price("percentage", MIN_MAX, usage)
    assert result.amount == 0 and isinstance(result.amount, Decimal)
    assert result.details["paid_units"] == 0 and isinstance(result.details["paid_units"], Decimal)
    assert result.details["free_units"] == D(50) and result.details["free_events"] == 1


def test_min_max_a_value_below_one_unit_is_still_paid():
    # 0.5 is paid: 0.5 x 2 % + 0.5 = 0.51 -> min 1 (a filter `value > 1` would drop it)
    properties = {"rate": "2", "fixed_amount": "0.5", "per_transaction_min_amount": "1"}
    usage = UsageInput(units=D("0.5"), events_count=1, per_event_values=(D("0.5"),))
    assert price("percentage", properties, usage).amount == D(1)


def test_min_max_free_total_left_below_one_unit_still_frees_the_next_event():
    # free total 10.5: event 10 is free, 0.5 of event 5 is free, 4.5 paid: 4.5 x 10 % = 0.45
    properties = {
        "rate": "10",
        "free_units_per_total_aggregation": "10.5",
        "per_transaction_max_amount": "100",
    }
    usage = UsageInput(units=D(15), events_count=2, per_event_values=(D(10), D(5)))
    result = price("percentage", properties, usage)
    assert result.amount == D("0.45")
    assert result.details["paid_units"] == D("4.5")


def test_min_max_from_the_databases_clamped_total():
    # usage/aggregation.py sums the clamped per-transaction fees in SQL: taken as is
    properties = {"rate": "1", "per_transaction_min_amount": "0.5"}
    result = price("percentage", properties, UsageInput(units=D(100), clamped_fees_total=D("3.25")))
    assert (result.amount, result.units, result.unit_amount) == (D("3.25"), D(100), D("0.0325"))
    # fewer than one unit is still usage
    half = price("percentage", properties, UsageInput(units=D("0.5"), clamped_fees_total=D(2)))
    assert half.amount == D(2)
    # no units, no fee; a negative total is 0
    nothing = UsageInput(units=D(0), clamped_fees_total=D(2))
    assert price("percentage", properties, nothing).amount == 0
    negative = UsageInput(units=D(3), clamped_fees_total=D(-2))
    assert price("percentage", properties, negative).amount == 0


def test_min_max_without_values_or_total_is_refused():
    properties = {"rate": "1", "per_transaction_max_amount": "5"}
    message = r"^per-transaction min/max needs per_event_values or clamped_fees_total$"
    with pytest.raises(ValueError, match=message):
        price("percentage", properties, UsageInput(units=D(3)))


# --- prorated volume ---------------------------------------------------------------------------

VOLUME = {"volume_ranges": [tier(0, 10, "1", "5"), tier(11, 20, "2", "7")]}


def test_prorated_volume_tier_line_and_prorated_lines():
    # 3 units all 30 days, 3 more the last 10 days of 30: full units 6 -> tier 1 at 1 + flat 5.
    # unit-days 3 x 30 + 3 x 10 = 120 -> 4 prorated units -> 4 + 5 = 9
    result = prorated("volume", VOLUME, 6, 30, [(30, 3), (10, 3)])
    assert result.amount == D(9)
    assert result.tiers == (TierLine(D(0), D(10), D(4), D(1), D(5), D(9)),)
    assert result.prorated == (
        ProratedLine(D(3), 30, 30, D(1), D(3), tier=0),
        ProratedLine(D(3), 10, 30, D(1), D(1), tier=0),
    )


def test_prorated_volume_above_the_last_bounded_tier_uses_the_last_tier():
    # 25 full units, no tier holds them: the last one (2 + flat 7); 25 units all 30 days -> 50 + 7
    result = prorated("volume", VOLUME, 25, 30, [(30, 25)])
    assert result.amount == D(57)
    assert result.tiers[0].to_value == D(20)


def test_prorated_volume_without_ranges_is_free():
    result = prorated("volume", {}, 4, 30, [(30, 4)])
    assert (result.amount, result.units, result.tiers, result.prorated) == (D(0), D(4), (), ())


def test_prorated_volume_flat_amount_when_units_were_present_but_removed():
    # one unit added with 30 days left, removed with 20 left: 10 unit-days, none at the end.
    # Still used: 10 / 30 x 1 + flat 5
    result = prorated("volume", VOLUME, 0, 30, [(30, 1), (20, -1)])
    assert result.amount == D(10) / 30 + 5


def test_prorated_volume_flat_amount_for_less_than_one_unit():
    # half a unit one day of 30: used, so flat 5 + 0.5 / 30
    result = prorated("volume", VOLUME, "0.5", 30, [(1, "0.5")])
    assert result.amount == D(5) + D("0.5") / 30


# --- prorated graduated ------------------------------------------------------------------------

GRADUATED = {"graduated_ranges": [tier(0, 2, "3", "4"), tier(3, None, "1", "6")]}


def test_prorated_graduated_positions_with_a_count_of_two():
    # unique count: 2 values were the 1st unit (present 15 days), 1 the 2nd (30 days), peak 2.
    # tier 0 unit-days 2 x 15 + 1 x 30 = 60 -> 60 x 3 / 30 = 6, + flat 4 = 10
    positions = ((D(1), 15, 2), (D(2), 30, 1))
    result = prorated("graduated", GRADUATED, 2, 30, [], positions=positions, peak=2)
    assert result.amount == D(10)
    assert result.prorated == (
        ProratedLine(D(1), 30, 30, D(3), D(3), 0),
        ProratedLine(D(2), 15, 30, D(3), D(3), 0),
    )


def test_prorated_graduated_lines_add_up_units_with_the_same_days():
    # two values, the 1st and 2nd units, both present 10 days: one line of 2 units x 10 days
    positions = ((D(1), 10, 1), (D(2), 10, 1))
    result = prorated("graduated", GRADUATED, 2, 30, [], positions=positions, peak=2)
    assert result.prorated == (ProratedLine(D(2), 10, 30, D(3), D(2), 0),)
    assert result.amount == D(2) + 4  # 20 unit-days x 3 / 30 + flat 4


def test_prorated_graduated_units_removed_before_the_end_still_bill_their_days():
    # peak not given (0) and 0 units at the end: tier 0 is not reached, no flat, but its
    # 10 unit-days bill 10 x 3 / 30 = 1
    result = prorated("graduated", GRADUATED, 0, 30, [(30, 1), (20, -1)])
    assert result.amount == D(1)
    assert [line.flat_amount for line in result.tiers] == [D(0)]


def test_prorated_graduated_reached_tier_without_days_bills_its_flat_only():
    # 1 unit at the end, no unit-days (nothing present a whole day yet): flat 4 of tier 0 only
    result = prorated("graduated", GRADUATED, 1, 30, [])
    assert result.amount == D(4)
    assert len(result.tiers) == 1  # tier 1, neither reached nor used, is not listed


# --- included units and projection ------------------------------------------------------------


def test_included_units_of_graduated_percentage_follow_the_rate():
    ranges = [
        tier(0, 1000, "0", key="rate"),
        tier(1001, 2000, "1", key="rate"),
        tier(2001, None, "2", key="rate"),
    ]
    assert included_units("graduated_percentage", {"graduated_percentage_ranges": ranges}) == 1000


def test_one_free_package_unit_is_included():
    properties = {"amount": "5", "package_size": 10, "free_units": 1}
    assert included_units("package", properties) == D(1)


def test_projection_past_the_periods_end_keeps_the_units():
    # the clock past the end (elapsed 1.5): usage is what it is, not scaled down to 20
    assert projected_units(D(30), D("1.5"), recurring=False) == D(30)


def test_prorated_graduated_tier_lines():
    # 3 units the whole 30 days: 2 in tier 0 (x 3, flat 4), 1 in tier 1 (x 1, flat 6)
    result = prorated("graduated", GRADUATED, 3, 30, [(30, 3)])
    assert result.amount == D(6) + 4 + 1 + 6
    assert result.tiers == (
        TierLine(D(0), D(2), D(2), D(3), D(4), D(10)),
        TierLine(D(3), None, D(1), D(1), D(6), D(7)),
    )


def test_prorated_graduated_a_unit_added_and_removed_the_same_day_bills_nothing():
    result = prorated("graduated", GRADUATED, 0, 30, [(20, 1), (20, -1)])
    assert (result.amount, result.tiers, result.prorated) == (D(0), (), ())


def test_prorated_graduated_without_period_days_bills_the_flat_amounts_only():
    result = prorated("graduated", GRADUATED, 1, 0, [(1, 1)])
    assert result.amount == D(4)
    assert result.tiers[0].units == 0
    assert [line.amount for line in result.prorated] == [D(0)]


# --- prorated standard: proration, lines, unit amount -----------------------------------------


def test_proration_units_are_decimal_and_guard_an_empty_period():
    assert Proration(period_days=30).total_unit_days == 0
    assert isinstance(Proration(period_days=30).total_unit_days, Decimal)
    assert isinstance(Proration(period_days=30).units, Decimal)
    assert Proration(period_days=0, unit_days=((1, D(1)),)).units == 0
    assert Proration(period_days=1, unit_days=((1, D(3)),)).units == D(3)


def test_prorated_standard_one_day_period_and_empty_period():
    assert prorated("standard", {"amount": "3"}, 2, 1, [(1, 2)]).amount == D(6)
    assert prorated("standard", {"amount": "3"}, 2, 0, [(1, 2)]).amount == D(0)


def test_prorated_standard_multiplies_before_it_divides():
    # 1 unit 10 days of 30 at 3: 10 x 3 / 30 = 1 exactly (1/3 first would give 0.999...)
    result = prorated("standard", {"amount": "3"}, 1, 30, [(10, 1)])
    assert result.amount == D(1)
    assert result.unit_amount == D(1)


def test_prorated_standard_lines_longest_first_and_unit_amount_per_full_unit():
    # rows as (days, units): 2 units 10 days, 1 unit 30 days, a zero row. Lines by days, longest
    # first: 1 x 30 / 30 x 6 = 6, 2 x 10 / 30 x 6 = 4; amount 10 over 2 full units = 5 each
    result = prorated("standard", {"amount": "6"}, 2, 30, [(10, 2), (30, 1), (5, 0)])
    assert result.prorated == (
        ProratedLine(D(1), 30, 30, D(6), D(6), None),
        ProratedLine(D(2), 10, 30, D(6), D(4), None),
    )
    assert (result.amount, result.unit_amount) == (D(10), D(5))


def test_prorated_units_use_the_metrics_rounding_precision():
    # 1 unit 10 days of 30 = 0.333..., rounded to 1 decimal = 0.3 at 10 -> 3
    usage = UsageInput(
        units=D(1),
        proration=Proration(period_days=30, unit_days=((10, D(1)),), rounding=("round", 1)),
    )
    result = price("standard", {"amount": "10"}, usage)
    assert result.amount == D(3)
    assert result.details["prorated_units"] == D("0.3")


# --- not prorated: volume, package, percentage ------------------------------------------------


def test_volume_without_ranges_is_free_and_above_the_last_bounded_tier_uses_it():
    assert (price("volume", {}, UsageInput(units=D(5))).amount) == D(0)
    assert price("volume", {}, UsageInput(units=D(5))).units == D(5)
    # 25 units, no tier holds them: the last one, 25 x 2 + 7
    assert price("volume", VOLUME, UsageInput(units=D(25))).amount == D(57)


def test_package_size_defaults_to_one_unit_and_zero_is_refused():
    assert price("package", {"amount": "2"}, UsageInput(units=D(3))).amount == D(6)
    with pytest.raises(ValueError, match=r"^package_size must be at least 1$"):
        price("package", {"amount": "2", "package_size": 0}, UsageInput(units=D(3)))


def test_percentage_fixed_fee_for_an_event_below_one_unit():
    # 0.5 units in 1 event: 0.5 x 10 % + 0.20 fixed = 0.25
    usage = UsageInput(units=D("0.5"), events_count=1)
    assert price("percentage", {"rate": "10", "fixed_amount": "0.2"}, usage).amount == D("0.25")


def test_prorated_volume_flat_amount_for_units_at_the_end_without_days():
    # 1 unit at the end, none present a whole day yet: used, flat 5
    assert prorated("volume", VOLUME, 1, 30, []).amount == D(5)
    # no unit at the end, half a unit present one day: used too, flat 5 + 0.5 / 30
    assert prorated("volume", VOLUME, 0, 30, [(1, "0.5")]).amount == D(5) + D("0.5") / 30


def test_prorated_volume_tier_line_of_the_second_tier():
    # 15 units all 30 days: tier from 11 to 20 at 2, flat 7 -> 30 + 7
    result = prorated("volume", VOLUME, 15, 30, [(30, 15)])
    assert result.tiers == (TierLine(D(11), D(20), D(15), D(2), D(7), D(37)),)


# --- helpers seen through price(): empty strings, -0, units below one ---------------------------


def test_empty_strings_are_missing_values():
    # amount "" is 0; a to_value "" is an open tier
    assert price("standard", {"amount": ""}, UsageInput(units=D(3))).amount == D(0)
    ranges = {"volume_ranges": [tier(0, "", "1")]}
    assert price("volume", ranges, UsageInput(units=D(3))).amount == D(3)


def test_minus_zero_units_price_as_plain_zero():
    result = price("standard", {"amount": "2"}, UsageInput(units=D("-0")))
    assert result.units == 0 and not result.units.is_signed()


def test_unit_amount_of_less_than_one_unit():
    # 0.5 units at 2: amount 1, 2 per unit
    result = price("standard", {"amount": "2"}, UsageInput(units=D("0.5")))
    assert (result.amount, result.unit_amount) == (D(1), D(2))


def test_graduated_without_ranges_is_a_decimal_zero():
    result = price("graduated", {}, UsageInput(units=D(5)))
    assert result == PricingResult(D(0), D(5), D(0))
    assert isinstance(result.amount, Decimal)


def test_units_exactly_at_a_tiers_top_stay_in_that_tier():
    # 1000 units, first tier (0, 1000]: one tier line, nothing in the next
    ranges = {"graduated_ranges": [tier(0, 1000, "0.01"), tier(1001, None, "0.005")]}
    result = price("graduated", ranges, UsageInput(units=D(1000)))
    assert result.amount == D(10)
    assert len(result.tiers) == 1


def test_round_units_default_precision_is_whole_units():
    assert round_units(D("2.5"), "round") == D(3)
    assert round_units(D("2.4"), "ceil") == D(3)
