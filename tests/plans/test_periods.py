"""Billing periods: hand-computed schedules, time-zone bounds, proration, and properties."""

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plans.periods import (
    BILLING_TIMES,
    INTERVALS,
    Period,
    add_months,
    charges_period,
    full_period_containing,
    interval_months,
    local_bounds_utc,
    local_date,
    next_period,
    period_containing,
    periods_between,
    proration,
    yearly_amount_factor,
)

D = date.fromisoformat
MONTHS = {"monthly": 1, "quarterly": 3, "semiannual": 6, "yearly": 12}


def P(start: str, end: str) -> Period:
    return Period(D(start), D(end))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def schedule(interval, billing_time, anchor, count):
    """The first `count` periods of a subscription, walked with next_period."""
    kw = {"interval": interval, "billing_time": billing_time, "anchor": anchor}
    periods = [period_containing(**kw, day=anchor)]
    while len(periods) < count:
        periods.append(next_period(**kw, period=periods[-1]))
    return periods


def oracle_add_months(day: date, months: int) -> date:
    """Independent add_months: step month by month, clamp with 'first of next month - 1 day'."""
    year, month = day.year, day.month
    step = 1 if months >= 0 else -1
    for _ in range(abs(months)):
        month += step
        if month == 13:
            year, month = year + 1, 1
        elif month == 0:
            year, month = year - 1, 12
    next_first = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    last_day = (next_first - timedelta(days=1)).day
    return date(year, month, min(day.day, last_day))


# --- Period ------------------------------------------------------------------------------------


def test_period_days_and_contains_are_inclusive():
    period = P("2024-02-01", "2024-02-29")
    assert period.days == 29
    assert period.contains(D("2024-02-01"))
    assert period.contains(D("2024-02-29"))
    assert not period.contains(D("2024-01-31"))
    assert not period.contains(D("2024-03-01"))
    assert P("2024-02-01", "2024-02-01").days == 1


def test_period_cannot_be_empty_or_hold_datetimes():
    with pytest.raises(ValueError, match="empty period"):
        P("2024-02-02", "2024-02-01")
    with pytest.raises(TypeError):
        Period(datetime(2024, 1, 1, tzinfo=UTC), D("2024-01-31"))


# --- add_months --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        ("2024-01-31", 1, "2024-02-29"),
        ("2023-01-31", 1, "2023-02-28"),
        ("2024-01-31", 2, "2024-03-31"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-02-29", 48, "2028-02-29"),
        ("2024-03-31", -1, "2024-02-29"),
        ("2024-01-15", -1, "2023-12-15"),
        ("2024-11-30", 3, "2025-02-28"),
        ("2024-05-10", 0, "2024-05-10"),
    ],
)
def test_add_months_clamps_to_month_end(day, months, expected):
    assert add_months(D(day), months) == D(expected)


# --- calendar schedules ------------------------------------------------------------------------


CALENDAR_TABLES = {
    # Started on a Thursday: first week clipped, then Monday-Sunday.
    "weekly": (
        "2024-01-04",
        [
            ("2024-01-04", "2024-01-07"),
            ("2024-01-08", "2024-01-14"),
            ("2024-01-15", "2024-01-21"),
            ("2024-01-22", "2024-01-28"),
            ("2024-01-29", "2024-02-04"),
        ],
    ),
    "monthly": (
        "2024-01-15",
        [
            ("2024-01-15", "2024-01-31"),
            ("2024-02-01", "2024-02-29"),
            ("2024-03-01", "2024-03-31"),
            ("2024-04-01", "2024-04-30"),
        ],
    ),
    "quarterly": (
        "2024-02-10",
        [
            ("2024-02-10", "2024-03-31"),
            ("2024-04-01", "2024-06-30"),
            ("2024-07-01", "2024-09-30"),
            ("2024-10-01", "2024-12-31"),
            ("2025-01-01", "2025-03-31"),
        ],
    ),
    "semiannual": (
        "2024-05-20",
        [
            ("2024-05-20", "2024-06-30"),
            ("2024-07-01", "2024-12-31"),
            ("2025-01-01", "2025-06-30"),
        ],
    ),
    "yearly": (
        "2024-03-15",
        [
            ("2024-03-15", "2024-12-31"),
            ("2025-01-01", "2025-12-31"),
            ("2026-01-01", "2026-12-31"),
        ],
    ),
}


@pytest.mark.parametrize("interval", INTERVALS)
def test_calendar_schedule(interval):
    anchor, expected = CALENDAR_TABLES[interval]
    periods = schedule(interval, "calendar", D(anchor), len(expected))
    assert periods == [P(start, end) for start, end in expected]


@pytest.mark.parametrize(
    ("interval", "day", "expected"),
    [
        ("weekly", "2024-01-04", ("2024-01-01", "2024-01-07")),  # Thursday → its Mon-Sun week
        ("weekly", "2024-12-30", ("2024-12-30", "2025-01-05")),  # across the new year
        ("monthly", "2023-02-14", ("2023-02-01", "2023-02-28")),
        ("quarterly", "2024-11-05", ("2024-10-01", "2024-12-31")),
        ("semiannual", "2024-06-30", ("2024-01-01", "2024-06-30")),
        ("yearly", "2024-03-15", ("2024-01-01", "2024-12-31")),
    ],
)
def test_calendar_full_period_ignores_the_anchor(interval, day, expected):
    for anchor in (D("2024-01-04"), D("2019-07-31")):
        full = full_period_containing(
            interval=interval, billing_time="calendar", anchor=anchor, day=D(day)
        )
        assert full == P(*expected)


def test_first_calendar_period_is_clipped_to_the_anchor():
    kw = {"interval": "monthly", "billing_time": "calendar", "anchor": D("2024-01-15")}
    assert period_containing(**kw, day=D("2024-01-20")) == P("2024-01-15", "2024-01-31")
    assert full_period_containing(**kw, day=D("2024-01-20")) == P("2024-01-01", "2024-01-31")
    assert period_containing(**kw, day=D("2024-02-20")) == P("2024-02-01", "2024-02-29")


def test_calendar_anchor_on_a_period_start_is_not_clipped():
    period = period_containing(
        interval="quarterly", billing_time="calendar", anchor=D("2024-04-01"), day=D("2024-05-01")
    )
    assert period == P("2024-04-01", "2024-06-30")


# --- anniversary schedules ---------------------------------------------------------------------


ANNIVERSARY_TABLES = {
    "weekly": (
        "2024-01-04",  # Thursday → Thursday-Wednesday weeks
        [
            ("2024-01-04", "2024-01-10"),
            ("2024-01-11", "2024-01-17"),
            ("2024-01-18", "2024-01-24"),
        ],
    ),
    "monthly": (
        "2024-01-10",  # the 10th → the 9th
        [
            ("2024-01-10", "2024-02-09"),
            ("2024-02-10", "2024-03-09"),
            ("2024-03-10", "2024-04-09"),
        ],
    ),
    "quarterly": (
        "2023-11-30",
        [
            ("2023-11-30", "2024-02-28"),  # next starts Feb 29 (2024 is leap)
            ("2024-02-29", "2024-05-29"),
            ("2024-05-30", "2024-08-29"),
            ("2024-08-30", "2024-11-29"),
            ("2024-11-30", "2025-02-27"),  # next starts Feb 28 2025
            ("2025-02-28", "2025-05-29"),
        ],
    ),
    "semiannual": (
        "2024-08-31",
        [
            ("2024-08-31", "2025-02-27"),
            ("2025-02-28", "2025-08-30"),
            ("2025-08-31", "2026-02-27"),
        ],
    ),
    "yearly": (
        "2024-02-29",
        [
            ("2024-02-29", "2025-02-27"),
            ("2025-02-28", "2026-02-27"),
            ("2026-02-28", "2027-02-27"),
            ("2027-02-28", "2028-02-28"),  # next starts Feb 29 2028 (leap)
            ("2028-02-29", "2029-02-27"),
        ],
    ),
}


@pytest.mark.parametrize("interval", INTERVALS)
def test_anniversary_schedule(interval):
    anchor, expected = ANNIVERSARY_TABLES[interval]
    periods = schedule(interval, "anniversary", D(anchor), len(expected))
    assert periods == [P(start, end) for start, end in expected]


MONTHLY_FROM_JAN_31_2024 = [
    ("2024-01-31", "2024-02-28"),
    ("2024-02-29", "2024-03-30"),
    ("2024-03-31", "2024-04-29"),
    ("2024-04-30", "2024-05-30"),
    ("2024-05-31", "2024-06-29"),
    ("2024-06-30", "2024-07-30"),
    ("2024-07-31", "2024-08-30"),
    ("2024-08-31", "2024-09-29"),
    ("2024-09-30", "2024-10-30"),
    ("2024-10-31", "2024-11-29"),
    ("2024-11-30", "2024-12-30"),
    ("2024-12-31", "2025-01-30"),
    ("2025-01-31", "2025-02-27"),
]

MONTHLY_FROM_JAN_31_2023 = [
    ("2023-01-31", "2023-02-27"),
    ("2023-02-28", "2023-03-30"),
    ("2023-03-31", "2023-04-29"),
    ("2023-04-30", "2023-05-30"),
    ("2023-05-31", "2023-06-29"),
    ("2023-06-30", "2023-07-30"),
    ("2023-07-31", "2023-08-30"),
    ("2023-08-31", "2023-09-29"),
    ("2023-09-30", "2023-10-30"),
    ("2023-10-31", "2023-11-29"),
    ("2023-11-30", "2023-12-30"),
    ("2023-12-31", "2024-01-30"),
    ("2024-01-31", "2024-02-28"),
]


@pytest.mark.parametrize("table", [MONTHLY_FROM_JAN_31_2024, MONTHLY_FROM_JAN_31_2023])
def test_monthly_anniversary_on_the_31st_through_a_year(table):
    anchor = D(table[0][0])
    expected = [P(start, end) for start, end in table]
    assert schedule("monthly", "anniversary", anchor, len(table)) == expected
    for k, period in enumerate(expected):
        # The add_months rule, never chained from the clamped previous start.
        assert period.start == add_months(anchor, k) == oracle_add_months(anchor, k)
        assert period.end == add_months(anchor, k + 1) - timedelta(days=1)
        for day in (period.start, period.start + timedelta(days=13), period.end):
            found = period_containing(
                interval="monthly", billing_time="anniversary", anchor=anchor, day=day
            )
            assert found == period


def test_anniversary_full_period_extends_before_the_anchor():
    kw = {"interval": "monthly", "billing_time": "anniversary", "anchor": D("2024-03-31")}
    assert full_period_containing(**kw, day=D("2024-03-05")) == P("2024-02-29", "2024-03-30")
    with pytest.raises(ValueError, match="before the subscription start"):
        period_containing(**kw, day=D("2024-03-30"))


def test_weekly_anniversary_before_the_anchor():
    full = full_period_containing(
        interval="weekly", billing_time="anniversary", anchor=D("2024-01-04"), day=D("2024-01-03")
    )
    assert full == P("2023-12-28", "2024-01-03")


# --- next_period / periods_between -------------------------------------------------------------


def test_next_period_after_a_clipped_first_period_is_full():
    kw = {"interval": "weekly", "billing_time": "calendar", "anchor": D("2024-01-04")}
    first = period_containing(**kw, day=D("2024-01-04"))
    assert next_period(**kw, period=first) == P("2024-01-08", "2024-01-14")


def test_next_period_rejects_a_period_off_the_schedule():
    with pytest.raises(ValueError, match="boundary"):
        next_period(
            interval="monthly",
            billing_time="calendar",
            anchor=D("2024-01-15"),
            period=P("2024-01-15", "2024-02-14"),
        )


def test_periods_between_covers_the_range_and_clips_the_first():
    periods = periods_between(
        interval="monthly",
        billing_time="calendar",
        anchor=D("2024-01-15"),
        start=D("2024-01-20"),
        end=D("2024-03-01"),
    )
    assert periods == [
        P("2024-01-15", "2024-01-31"),
        P("2024-02-01", "2024-02-29"),
        P("2024-03-01", "2024-03-31"),  # last period is whole, not cut at `end`
    ]


def test_periods_between_anniversary_and_single_day():
    kw = {"interval": "yearly", "billing_time": "anniversary", "anchor": D("2024-02-29")}
    assert periods_between(**kw, start=D("2025-03-01"), end=D("2025-03-01")) == [
        P("2025-02-28", "2026-02-27")
    ]
    assert periods_between(**kw, start=D("2024-02-29"), end=D("2026-02-28")) == [
        P("2024-02-29", "2025-02-27"),
        P("2025-02-28", "2026-02-27"),
        P("2026-02-28", "2027-02-27"),
    ]


def test_periods_between_rejects_reversed_ranges_and_days_before_the_anchor():
    kw = {"interval": "monthly", "billing_time": "calendar", "anchor": D("2024-01-15")}
    with pytest.raises(ValueError, match="before start"):
        periods_between(**kw, start=D("2024-03-01"), end=D("2024-02-01"))
    with pytest.raises(ValueError, match="before the subscription start"):
        periods_between(**kw, start=D("2024-01-01"), end=D("2024-02-01"))


# --- time zones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "period", "expected"),
    [
        # EST → EDT on 2024-03-10: the month is one hour short.
        (
            "America/New_York",
            ("2024-03-01", "2024-03-31"),
            ("2024-03-01T05:00", "2024-04-01T04:00"),
        ),
        (
            "America/New_York",
            ("2024-03-10", "2024-03-10"),
            ("2024-03-10T05:00", "2024-03-11T04:00"),
        ),
        (
            "America/New_York",
            ("2024-11-03", "2024-11-03"),
            ("2024-11-03T04:00", "2024-11-04T05:00"),
        ),
        ("Europe/Paris", ("2024-01-01", "2024-01-31"), ("2023-12-31T23:00", "2024-01-31T23:00")),
        ("Europe/Paris", ("2024-03-31", "2024-03-31"), ("2024-03-30T23:00", "2024-03-31T22:00")),
        ("Europe/Paris", ("2024-10-27", "2024-10-27"), ("2024-10-26T22:00", "2024-10-27T23:00")),
        ("Asia/Tokyo", ("2024-01-01", "2024-01-31"), ("2023-12-31T15:00", "2024-01-31T15:00")),
        ("UTC", ("2024-02-01", "2024-02-29"), ("2024-02-01T00:00", "2024-03-01T00:00")),
        # Chile springs forward at local midnight: the day starts at 01:00 local (04:00Z).
        (
            "America/Santiago",
            ("2024-09-08", "2024-09-08"),
            ("2024-09-08T04:00", "2024-09-09T03:00"),
        ),
    ],
)
def test_local_bounds_utc(tz, period, expected):
    lower, upper = local_bounds_utc(P(*period), tz)
    assert (lower, upper) == (utc(expected[0]), utc(expected[1]))
    assert lower.utcoffset() == upper.utcoffset() == timedelta(0)


def test_local_bounds_utc_day_lengths_follow_dst():
    def hours(day: str) -> float:
        lower, upper = local_bounds_utc(P(day, day), "America/New_York")
        return (upper - lower) / timedelta(hours=1)

    assert (hours("2024-03-10"), hours("2024-03-11"), hours("2024-11-03")) == (23, 24, 25)


def test_unknown_time_zone_is_a_value_error():
    with pytest.raises(ValueError, match="unknown time zone"):
        local_bounds_utc(P("2024-01-01", "2024-01-31"), "Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="unknown time zone"):
        local_date(utc("2024-01-01T00:00"), "Nowhere")


@pytest.mark.parametrize(
    ("moment", "tz", "expected"),
    [
        (utc("2024-01-31T14:59:59"), "Asia/Tokyo", "2024-01-31"),
        (utc("2024-01-31T15:00:00"), "Asia/Tokyo", "2024-02-01"),  # +09:00 midnight
        (utc("2024-12-31T15:00:00"), "Asia/Tokyo", "2025-01-01"),
        (utc("2024-03-01T04:59:59"), "America/New_York", "2024-02-29"),
        (utc("2024-03-01T05:00:00"), "America/New_York", "2024-03-01"),
        (utc("2024-03-01T05:00:00"), "UTC", "2024-03-01"),
        # Any aware datetime works, not only UTC ones.
        (
            datetime(2024, 1, 31, 10, tzinfo=ZoneInfo("America/New_York")),
            "Asia/Tokyo",
            "2024-02-01",
        ),
    ],
)
def test_local_date(moment, tz, expected):
    assert local_date(moment, tz) == D(expected)


def test_local_date_rejects_naive_datetimes():
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2024, 1, 1, 12), "UTC")


# --- proration, charges, price comparison ------------------------------------------------------


@pytest.mark.parametrize(
    ("used", "full", "expected"),
    [
        (("2024-01-15", "2024-01-31"), ("2024-01-01", "2024-01-31"), Fraction(17, 31)),
        (("2024-02-01", "2024-02-29"), ("2024-02-01", "2024-02-29"), Fraction(1)),
        (("2024-02-15", "2024-02-29"), ("2024-02-01", "2024-02-29"), Fraction(15, 29)),
        (("2024-03-15", "2024-12-31"), ("2024-01-01", "2024-12-31"), Fraction(292, 366)),
        (("2024-01-04", "2024-01-07"), ("2024-01-01", "2024-01-07"), Fraction(4, 7)),
    ],
)
def test_proration_is_an_exact_day_fraction(used, full, expected):
    result = proration(used=P(*used), full=P(*full))
    assert result == expected
    assert isinstance(result, Fraction)


def test_proration_requires_used_within_full():
    with pytest.raises(ValueError, match="within"):
        proration(used=P("2024-01-15", "2024-02-01"), full=P("2024-01-01", "2024-01-31"))
    with pytest.raises(ValueError, match="within"):
        proration(used=P("2023-12-31", "2024-01-10"), full=P("2024-01-01", "2024-01-31"))


def test_first_period_proration_from_the_schedule():
    kw = {
        "interval": "monthly",
        "billing_time": "calendar",
        "anchor": D("2024-01-15"),
        "day": D("2024-01-15"),
    }
    used, full = period_containing(**kw), full_period_containing(**kw)
    assert proration(used=used, full=full) == Fraction(17, 31)


@pytest.mark.parametrize(
    ("interval", "billing_time", "anchor", "day", "monthly", "expected"),
    [
        ("yearly", "calendar", "2024-03-15", "2024-03-20", True, ("2024-03-15", "2024-03-31")),
        ("yearly", "calendar", "2024-03-15", "2024-07-04", True, ("2024-07-01", "2024-07-31")),
        ("yearly", "calendar", "2024-03-15", "2024-03-20", False, ("2024-03-15", "2024-12-31")),
        ("yearly", "anniversary", "2024-01-31", "2024-03-05", True, ("2024-02-29", "2024-03-30")),
        ("yearly", "anniversary", "2024-01-31", "2024-03-05", False, ("2024-01-31", "2025-01-30")),
        ("semiannual", "calendar", "2024-08-20", "2024-08-25", True, ("2024-08-20", "2024-08-31")),
        (
            "semiannual",
            "anniversary",
            "2024-08-31",
            "2025-02-28",
            True,
            ("2025-02-28", "2025-03-30"),
        ),
        # The flag only applies to long plans.
        ("quarterly", "calendar", "2024-02-10", "2024-02-20", True, ("2024-02-10", "2024-03-31")),
        ("monthly", "anniversary", "2024-01-10", "2024-02-20", True, ("2024-02-10", "2024-03-09")),
    ],
)
def test_charges_period(interval, billing_time, anchor, day, monthly, expected):
    period = charges_period(
        interval=interval,
        billing_time=billing_time,
        anchor=D(anchor),
        day=D(day),
        bill_charges_monthly=monthly,
    )
    assert period == P(*expected)


def test_monthly_charges_periods_nest_in_the_yearly_period():
    kw = {"interval": "yearly", "billing_time": "anniversary", "anchor": D("2024-01-31")}
    year = period_containing(**kw, day=D("2024-01-31"))
    months = []
    day = year.start
    while day <= year.end:
        months.append(charges_period(**kw, day=day, bill_charges_monthly=True))
        day = months[-1].end + timedelta(days=1)
    assert len(months) == 12
    assert (months[0].start, months[-1].end) == (year.start, year.end)


@pytest.mark.parametrize(
    ("interval", "factor"),
    [("weekly", 52), ("monthly", 12), ("quarterly", 4), ("semiannual", 2), ("yearly", 1)],
)
def test_yearly_amount_factor(interval, factor):
    assert yearly_amount_factor(interval) == factor


@pytest.mark.parametrize(
    ("interval", "months"),
    [
        ("weekly", Fraction(3, 13)),
        ("monthly", Fraction(1)),
        ("quarterly", Fraction(3)),
        ("semiannual", Fraction(6)),
        ("yearly", Fraction(12)),
    ],
)
def test_interval_months_is_the_exact_length_of_one_period_in_months(interval, months):
    assert interval_months(interval) == months


def test_interval_months_rejects_an_unknown_interval():
    with pytest.raises(ValueError, match="unknown interval"):
        interval_months("daily")


# --- validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(("interval", "billing_time"), [("daily", "calendar"), ("monthly", "x")])
def test_unknown_interval_or_billing_time(interval, billing_time):
    kw = {"interval": interval, "billing_time": billing_time, "anchor": D("2024-01-01")}
    day = D("2024-01-02")
    with pytest.raises(ValueError, match="unknown"):
        full_period_containing(**kw, day=day)
    with pytest.raises(ValueError, match="unknown"):
        period_containing(**kw, day=day)
    with pytest.raises(ValueError, match="unknown"):
        next_period(**kw, period=P("2024-01-01", "2024-01-01"))
    with pytest.raises(ValueError, match="unknown"):
        periods_between(**kw, start=day, end=day)
    with pytest.raises(ValueError, match="unknown"):
        charges_period(**kw, day=day, bill_charges_monthly=True)


def test_unknown_interval_for_yearly_amount_factor():
    with pytest.raises(ValueError, match="unknown interval"):
        yearly_amount_factor("daily")


def test_datetimes_are_not_local_days():
    with pytest.raises(TypeError, match="local date"):
        period_containing(
            interval="monthly",
            billing_time="calendar",
            anchor=D("2024-01-01"),
            day=datetime(2024, 1, 5, tzinfo=UTC),
        )


# --- properties --------------------------------------------------------------------------------


anchors = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))
intervals = st.sampled_from(INTERVALS)
billing_times = st.sampled_from(BILLING_TIMES)
zones = st.sampled_from(
    ["UTC", "America/New_York", "Europe/Paris", "Asia/Tokyo", "America/Santiago", "Asia/Kolkata"]
)
FULL_DAYS = {
    "weekly": (7, 7),
    "monthly": (28, 31),
    "quarterly": (89, 92),
    "semiannual": (181, 184),
    "yearly": (365, 366),
}


@given(anchor=anchors, interval=intervals, billing_time=billing_times)
def test_consecutive_periods_are_contiguous_and_never_empty(anchor, interval, billing_time):
    periods = schedule(interval, billing_time, anchor, 15)
    assert periods[0].start == anchor
    for prev, nxt in pairwise(periods):
        assert nxt.start == prev.end + timedelta(days=1)
    for period in periods:
        assert period.days >= 1
    low, high = FULL_DAYS[interval]
    for period in periods[1:]:
        assert low <= period.days <= high


@given(
    anchor=anchors,
    offset=st.integers(min_value=0, max_value=4000),
    interval=intervals,
    billing_time=billing_times,
)
def test_every_day_belongs_to_exactly_its_period(anchor, offset, interval, billing_time):
    kw = {"interval": interval, "billing_time": billing_time, "anchor": anchor}
    day = anchor + timedelta(days=offset)
    period = period_containing(**kw, day=day)
    assert anchor <= period.start <= day <= period.end
    # Same period from both of its ends; the neighbours begin/end right outside it.
    assert period_containing(**kw, day=period.start) == period
    assert period_containing(**kw, day=period.end) == period
    after = period_containing(**kw, day=period.end + timedelta(days=1))
    assert after.start == period.end + timedelta(days=1)
    if period.start > anchor:
        before = period_containing(**kw, day=period.start - timedelta(days=1))
        assert before.end == period.start - timedelta(days=1)
    full = full_period_containing(**kw, day=day)
    assert full.end == period.end
    assert full.contains(period.start)
    low, high = FULL_DAYS[interval]
    assert low <= full.days <= high


@given(anchor=anchors, k=st.integers(min_value=0, max_value=150), interval=intervals)
def test_anniversary_periods_start_on_add_months_of_the_anchor(anchor, k, interval):
    kw = {"interval": interval, "billing_time": "anniversary", "anchor": anchor}
    if interval == "weekly":
        start, following = anchor + timedelta(weeks=k), anchor + timedelta(weeks=k + 1)
    else:
        months = MONTHS[interval]
        start = oracle_add_months(anchor, k * months)
        following = oracle_add_months(anchor, (k + 1) * months)
        assert add_months(anchor, k * months) == start
    period = period_containing(**kw, day=start)
    assert period == Period(start, following - timedelta(days=1))
    assert period_containing(**kw, day=following - timedelta(days=1)) == period


@given(day=anchors, interval=intervals)
def test_calendar_periods_start_on_calendar_boundaries(day, interval):
    full = full_period_containing(
        interval=interval, billing_time="calendar", anchor=date(2000, 1, 1), day=day
    )
    if interval == "weekly":
        assert (full.start.weekday(), full.end.weekday()) == (0, 6)
    else:
        assert full.start.day == 1
        assert (full.start.month - 1) % MONTHS[interval] == 0
        assert (full.end + timedelta(days=1)).day == 1


@given(
    anchor=anchors,
    start_offset=st.integers(min_value=0, max_value=800),
    length=st.integers(min_value=0, max_value=800),
    interval=intervals,
    billing_time=billing_times,
)
def test_periods_between_is_a_contiguous_cover(
    anchor, start_offset, length, interval, billing_time
):
    start = anchor + timedelta(days=start_offset)
    end = start + timedelta(days=length)
    periods = periods_between(
        interval=interval, billing_time=billing_time, anchor=anchor, start=start, end=end
    )
    assert periods[0].contains(start)
    assert periods[-1].contains(end)
    for prev, nxt in pairwise(periods):
        assert nxt.start == prev.end + timedelta(days=1)


@given(anchor=anchors, interval=intervals, billing_time=billing_times, tz=zones)
def test_utc_bounds_round_trip_and_chain(anchor, interval, billing_time, tz):
    periods = schedule(interval, billing_time, anchor, 3)
    bounds = [local_bounds_utc(period, tz) for period in periods]
    for period, (lower, upper) in zip(periods, bounds, strict=True):
        assert lower < upper
        assert local_date(lower, tz) == period.start
        assert local_date(upper - timedelta(microseconds=1), tz) == period.end
        assert local_date(upper, tz) == period.end + timedelta(days=1)
    for (_, upper), (lower, _) in pairwise(bounds):
        assert upper == lower


# --- prorated charges: the whole charges period and the zone's offsets -----------------------


def test_full_charges_period_is_not_clipped_to_the_subscription_start():
    from plans.periods import full_charges_period

    schedule = {"billing_time": "calendar", "anchor": D("2024-03-10"), "day": D("2024-03-10")}
    monthly = full_charges_period(interval="monthly", bill_charges_monthly=False, **schedule)
    assert (monthly, monthly.days) == (Period(D("2024-03-01"), D("2024-03-31")), 31)
    yearly = full_charges_period(interval="yearly", bill_charges_monthly=True, **schedule)
    assert yearly == monthly  # charges billed monthly divide by the month
    assert (
        full_charges_period(interval="yearly", bill_charges_monthly=False, **schedule).days == 366
    )


@pytest.mark.parametrize(
    ("tz", "offsets"),
    [
        ("UTC", [(datetime(2024, 1, 1, tzinfo=UTC), 0)]),
        ("Asia/Kolkata", [(datetime(2024, 1, 1, tzinfo=UTC), 19800)]),
        (
            "Europe/Paris",  # CET, CEST from 2024-03-31 01:00 UTC, CET from 2024-10-27 01:00 UTC
            [
                (datetime(2024, 1, 1, tzinfo=UTC), 3600),
                (datetime(2024, 3, 31, 1, tzinfo=UTC), 7200),
                (datetime(2024, 10, 27, 1, tzinfo=UTC), 3600),
            ],
        ),
    ],
)
def test_utc_offsets_of_a_window(tz, offsets):
    from plans.periods import utc_offsets

    assert utc_offsets(tz, datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)) == (
        offsets
    )


@given(
    st.sampled_from(["Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]),
    st.datetimes(min_value=datetime(2023, 1, 1), max_value=datetime(2026, 1, 1)),
)
def test_utc_offsets_put_every_instant_on_its_local_day(tz, naive):
    """The offset the SQL applies to an instant gives zoneinfo's local date for it."""
    from plans.periods import utc_offsets

    moment = naive.replace(tzinfo=UTC)
    lower = moment - timedelta(days=40)
    pairs = utc_offsets(tz, lower, moment + timedelta(days=40))
    offset = [seconds for start, seconds in pairs if start <= moment][-1]
    assert (moment + timedelta(seconds=offset)).date() == local_date(moment, tz)
