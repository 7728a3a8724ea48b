"""The crossing rule (pure): which thresholds a move of the watched value crossed."""

from decimal import Decimal as D

from customers.alerts.thresholds import MAX_RECURRING_STEPS, Threshold, crossed


def values(found) -> list[tuple[D, bool]]:
    return [(t.value, t.recurring) for t in found]


FIXED = [Threshold("warn", D(1000)), Threshold("alert", D(2000))]


def test_increasing_crosses_values_in_previous_exclusive_current_inclusive():
    assert values(crossed(FIXED, D(0), D(999))) == []
    assert values(crossed(FIXED, D(0), D(1000))) == [(D(1000), False)]
    assert values(crossed(FIXED, D(1000), D(2500))) == [(D(2000), False)]
    assert values(crossed(FIXED, D(0), D(2500))) == [(D(1000), False), (D(2000), False)]
    assert values(crossed(FIXED, D(2500), D(1500))) == []  # going down: nothing


def test_recurring_threshold_repeats_after_the_highest_fixed_one():
    thresholds = [*FIXED, Threshold("every", D(500), recurring=True)]
    assert values(crossed(thresholds, D(0), D(2499))) == [(D(1000), False), (D(2000), False)]
    assert values(crossed(thresholds, D(2000), D(3600))) == [
        (D(2500), True),
        (D(3000), True),
        (D(3500), True),
    ]
    assert values(crossed(thresholds, D(3500), D(3999))) == []
    assert [t.code for t in crossed(thresholds, D(3999), D(4000))] == ["every"]


def test_recurring_alone_starts_from_zero():
    every = [Threshold(None, D("0.5"), recurring=True)]
    assert values(crossed(every, D(0), D("1.2"))) == [(D("0.5"), True), (D("1.0"), True)]


def test_decreasing_crosses_values_in_current_inclusive_previous_exclusive():
    thresholds = [Threshold("low", D(500)), Threshold("empty", D(0))]
    assert values(crossed(thresholds, D(1000), D(600), increasing=False)) == []
    assert values(crossed(thresholds, D(1000), D(500), increasing=False)) == [(D(500), False)]
    assert values(crossed(thresholds, D(500), D(0), increasing=False)) == [(D(0), False)]
    assert values(crossed(thresholds, D(0), D(800), increasing=False)) == []


def test_a_huge_jump_over_a_tiny_step_is_capped():
    tiny = [Threshold(None, D("0.00001"), recurring=True)]
    found = crossed(tiny, D(0), D(10) ** 20)
    assert len(found) == MAX_RECURRING_STEPS
    assert found[-1].value == D(10) ** 20  # the highest multiples are kept
