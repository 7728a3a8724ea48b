"""Billing periods: the corners mutation testing found unchecked (docs/testing.md, "Mutation
testing"). Hand-checked dates and instants."""

from datetime import UTC, date, datetime

import pytest

from plans.periods import periods_between, utc_offsets


def test_a_dst_change_off_the_hourly_grid_is_found_to_the_second():
    # Paris springs forward at 2024-03-31 01:00:00 UTC. A window starting at 22:00:07 scans
    # 23:00:07, 00:00:07, 01:00:07, then bisects down to the exact whole second.
    lower = datetime(2024, 3, 30, 22, 0, 7, tzinfo=UTC)
    pairs = utc_offsets("Europe/Paris", lower, datetime(2024, 4, 1, tzinfo=UTC))
    assert pairs == [(lower, 3600), (datetime(2024, 3, 31, 1, 0, tzinfo=UTC), 7200)]


def test_periods_between_names_the_end_when_it_is_not_a_date():
    with pytest.raises(TypeError, match="^end must be a local date"):
        periods_between(
            interval="monthly",
            billing_time="calendar",
            anchor=date(2024, 1, 1),
            start=date(2024, 1, 1),
            end=datetime(2024, 3, 1, tzinfo=UTC),
        )
