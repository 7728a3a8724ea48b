"""Billing periods: the corners mutation testing found unchecked (docs/testing.md, "Mutation
testing"). Hand-checked dates and instants."""

from datetime import UTC, date, datetime, tzinfo

import pytest

from plans.periods import (
    Period,
    full_period_containing,
    local_date,
    periods_between,
    utc_offsets,
)


def test_a_dst_change_off_the_hourly_grid_is_found_to_the_second():
    # Paris springs forward at 2024-03-31 01:00:00 UTC. A window starting at 22:00:07 scans
    # 23:00:07, 00:00:07, 01:00:07, then bisects down to the exact whole second.
    lower = datetime(2024, 3, 30, 22, 0, 7, tzinfo=UTC)
    pairs = utc_offsets("Europe/Paris", lower, datetime(2024, 4, 1, tzinfo=UTC))
    assert pairs == [(lower, 3600), (datetime(2024, 3, 31, 1, 0, tzinfo=UTC), 7200)]


def test_periods_between_names_the_end_when_it_is_not_a_date():
    with pytest.raises(TypeError, match=r"^end must be a local date"):
        periods_between(
            interval="monthly",
            billing_time="calendar",
            anchor=date(2024, 1, 1),
            start=date(2024, 1, 1),
            end=datetime(2024, 3, 1, tzinfo=UTC),
        )


def test_a_dst_change_at_the_windows_end_is_not_in_the_window():
    # [lower, upper) ends at the very instant Paris springs forward: one offset only
    lower, upper = datetime(2024, 3, 30, tzinfo=UTC), datetime(2024, 3, 31, 1, tzinfo=UTC)
    assert utc_offsets("Europe/Paris", lower, upper) == [(lower, 3600)]


def test_the_anchor_is_named_when_it_is_not_a_date():
    with pytest.raises(TypeError, match=r"^anchor must be a local date"):
        full_period_containing(
            interval="monthly",
            billing_time="anniversary",
            anchor=datetime(2024, 1, 31, tzinfo=UTC),
            day=date(2024, 3, 1),
        )


class _NoOffset(tzinfo):
    """A tzinfo that does not know its offset: Python calls such a datetime naive."""

    def utcoffset(self, dt):
        return None

    def dst(self, dt):
        return None


def test_a_datetime_whose_zone_has_no_offset_is_naive_and_refused():
    with pytest.raises(ValueError, match="naive datetime"):
        local_date(datetime(2024, 3, 1, 12, tzinfo=_NoOffset()), "Europe/Paris")


def test_the_day_is_named_when_it_is_not_a_date():
    with pytest.raises(TypeError, match=r"^day must be a local date"):
        full_period_containing(
            interval="monthly",
            billing_time="calendar",
            anchor=date(2024, 1, 31),
            day=datetime(2024, 3, 1, tzinfo=UTC),
        )


@pytest.mark.parametrize("bound", ["start", "end"])
def test_a_period_names_the_bound_that_is_not_a_date(bound):
    days = {"start": date(2024, 3, 1), "end": date(2024, 3, 31)}
    days[bound] = datetime(2024, 3, 15, tzinfo=UTC)
    with pytest.raises(TypeError, match=rf"^{bound} must be a local date"):
        Period(**days)
