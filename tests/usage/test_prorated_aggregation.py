"""Prorated aggregation in SQL (SQLite and PostgreSQL): units by the local days they were present,
against hand-computed values and a slow reference computed here from the events."""

import itertools
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from customers.services import subscription_create
from plans.models import Charge
from plans.periods import local_date
from tests.factories import make_metric, make_plan
from usage.aggregation import ProrationDays, Window, _raw_stats, _stats, aggregate_charge
from usage.services import events_ingest

pytestmark = pytest.mark.django_db
TRANSACTION_IDS = itertools.count()
MARCH = (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))
HISTORY = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2024, 4, 15, tzinfo=UTC), tick=False):
        yield


def _setup(aggregation: str, charge_model="standard", properties=None, **charge_extra):
    metric = make_metric("m", aggregation, field_name="v", recurring=True)
    charge = {
        "billable_metric_id": str(metric.lago_id),
        "charge_model": charge_model,
        "properties": properties or {"amount": "1"},
        "prorated": True,
        **charge_extra,
    }
    make_plan("p", charges=[charge])
    subscription_create(
        data={
            "external_customer_id": "c",
            "plan_code": "p",
            "external_id": "s",
            "subscription_at": "2024-01-01T00:00:00Z",
        }
    )
    return Charge.objects.get()


def _send(*events):
    """events: (day in March or a datetime, properties)."""
    raws = []
    for when, properties in events:
        moment = when if isinstance(when, datetime) else datetime(2024, 3, when, 12, tzinfo=UTC)
        raws.append(
            {
                "transaction_id": f"t{next(TRANSACTION_IDS)}",
                "external_subscription_id": "s",
                "code": "m",
                "timestamp": moment.isoformat(),
                "properties": properties,
            }
        )
    events_ingest(raws=raws)


def _window(lower=MARCH[0], upper=MARCH[1], tz="UTC", period_days=31) -> Window:
    return Window("s", lower, upper, HISTORY, ProrationDays(tz, period_days))


def _proration(charge, window=None):
    [bucket] = aggregate_charge(charge, window or _window())
    return bucket.proration


def test_sum_carried_over_added_and_removed():
    charge = _setup("sum_agg")
    _send(
        (datetime(2024, 2, 10, tzinfo=UTC), {"v": 3}),  # carried over: all 31 days
        (10, {"v": 1}),  # March 10-31: 22 days
        (21, {"v": -1}),  # leaves with 11 days left: present March 10-20
        (21, {"v": 2}),  # the same day: the day's net change
    )
    proration = _proration(charge)
    assert proration.unit_days == ((31, Decimal(3)), (22, Decimal(1)), (11, Decimal(1)))
    assert proration.period_days == 31
    assert proration.total_unit_days == 93 + 22 + 11


def test_sum_in_a_window_cut_by_a_termination_counts_days_until_it():
    charge = _setup("sum_agg")
    _send((datetime(2024, 2, 10, tzinfo=UTC), {"v": 2}), (5, {"v": 1}))
    terminated = _window(upper=datetime(2024, 3, 10, 15, tzinfo=UTC))  # March 1-10
    assert _proration(charge, terminated).unit_days == ((10, Decimal(2)), (6, Decimal(1)))


def test_unique_count_presence_follows_lagos_rules():
    charge = _setup("unique_count_agg")
    remove = {"operation_type": "remove"}
    _send(
        (datetime(2024, 2, 1, tzinfo=UTC), {"v": "alice"}),  # removed March 20: 20 days
        (20, {"v": "alice", **remove}),
        (10, {"v": "bob"}),  # March 10-31: 22 days
        (10, {"v": "bob"}),  # a repeated add changes nothing
        (datetime(2024, 3, 5, 8, tzinfo=UTC), {"v": "carol"}),  # added and removed on the 5th
        (datetime(2024, 3, 5, 18, tzinfo=UTC), {"v": "carol", **remove}),  # 1 day
        (datetime(2024, 2, 2, tzinfo=UTC), {"v": "dave"}),  # removed and re-added the same day:
        (datetime(2024, 3, 15, 8, tzinfo=UTC), {"v": "dave", **remove}),  # no gap, 31 days
        (datetime(2024, 3, 15, 9, tzinfo=UTC), {"v": "dave"}),
        (datetime(2024, 2, 3, tzinfo=UTC), {"v": "eve"}),  # removed the 3rd (3 days), back
        (3, {"v": "eve", **remove}),  # the 4th (28 days)
        (4, {"v": "eve"}),
        (datetime(2024, 1, 5, tzinfo=UTC), {"v": "frank"}),  # gone before March: nothing
        (datetime(2024, 2, 5, tzinfo=UTC), {"v": "frank", **remove}),
        (datetime(2024, 3, 31, 23, tzinfo=UTC), {"v": "grace"}),  # the last day: 1 day
        (7, {"v": "heidi", **remove}),  # removing what was never added: nothing
    )
    proration = _proration(charge)
    assert sorted(proration.unit_days) == [
        (1, Decimal(2)),  # carol, grace
        (3, Decimal(1)),  # eve
        (20, Decimal(1)),  # alice
        (22, Decimal(1)),  # bob
        (28, Decimal(1)),  # eve again
        (31, Decimal(1)),  # dave
    ]
    assert proration.positions is None  # only graduated needs stack positions


def test_unique_count_stack_positions_for_graduated():
    tiers = {
        "graduated_ranges": [
            {"from_value": 0, "to_value": 1, "per_unit_amount": "10", "flat_amount": "0"},
            {"from_value": 2, "to_value": None, "per_unit_amount": "5", "flat_amount": "0"},
        ]
    }
    charge = _setup("unique_count_agg", "graduated", tiers)
    _send(
        (datetime(2024, 2, 1, tzinfo=UTC), {"v": "a"}),  # 1st seat, until the 20th: 20 days
        (10, {"v": "b"}),  # 2nd seat from the 10th: 22 days
        (20, {"v": "a", "operation_type": "remove"}),
        (25, {"v": "c"}),  # after a's removal, c is the 2nd seat again: 7 days
    )
    proration = _proration(charge)
    assert proration.positions == (
        (Decimal(1), 20, 1),
        (Decimal(2), 7, 1),
        (Decimal(2), 22, 1),
    )
    assert proration.peak == 2


@pytest.mark.parametrize("aggregation", ["sum_agg", "unique_count_agg"])
def test_each_filter_and_pricing_group_is_prorated_on_its_own(aggregation):
    metric = make_metric(
        "m",
        aggregation,
        field_name="v",
        recurring=True,
        filters=[{"key": "tier", "values": ["pro"]}],
    )
    make_plan(
        "p",
        charges=[
            {
                "billable_metric_id": str(metric.lago_id),
                "charge_model": "graduated",
                "properties": {
                    "graduated_ranges": [
                        {"from_value": 0, "to_value": None, "per_unit_amount": "1"}
                    ],
                    "pricing_group_keys": ["region"],
                },
                "filters": [
                    {
                        "values": {"tier": ["pro"]},
                        "properties": {
                            "graduated_ranges": [
                                {"from_value": 0, "to_value": None, "per_unit_amount": "2"}
                            ]
                        },
                    }
                ],
                "prorated": True,
            }
        ],
    )
    subscription_create(data={"external_customer_id": "c", "plan_code": "p", "external_id": "s"})
    charge = Charge.objects.get()
    pro = charge.filters.get().pk
    value = "1" if aggregation == "sum_agg" else None
    _send(
        (2, {"v": value or "a", "region": "eu"}),  # 30 days
        (11, {"v": value or "b", "region": "us"}),  # 21 days
        (21, {"v": value or "c", "region": "eu", "tier": "pro"}),  # 11 days
    )
    buckets = {(b.filter_id, b.group): b.proration for b in aggregate_charge(charge, _window())}
    assert {key: p.unit_days for key, p in buckets.items()} == {
        (0, ("eu",)): ((30, Decimal(1)),),
        (0, ("us",)): ((21, Decimal(1)),),
        (pro, ("eu",)): ((11, Decimal(1)),),
    }
    assert all(p.peak == 1 for p in buckets.values())


def test_days_are_the_customers_local_days():
    """23:30 UTC on March 9 is already March 10 in Paris and still March 9 in New York."""
    charge = _setup("sum_agg")
    _send((datetime(2024, 3, 9, 23, 30, tzinfo=UTC), {"v": 1}))
    for tz, days in (("Europe/Paris", 22), ("America/New_York", 23), ("UTC", 23)):
        zone = ZoneInfo(tz)
        lower = datetime(2024, 3, 1, tzinfo=zone).astimezone(UTC)
        upper = datetime(2024, 4, 1, tzinfo=zone).astimezone(UTC)
        window = _window(lower, upper, tz)
        assert _proration(charge, window).unit_days == ((days, Decimal(1)),), tz


def test_an_empty_window_prorates_nothing():
    charge = _setup("sum_agg")
    _send((datetime(2024, 2, 10, tzinfo=UTC), {"v": 2}))
    proration = _proration(charge, _window(MARCH[0], MARCH[0]))
    assert (proration.unit_days, proration.units) == ((), 0)


# --- the SQL against a slow reference computed from the events ---------------------------------


def _local_day(moment: datetime, window: Window) -> int:
    """Days since the window's first local day; -1 before the window."""
    if moment < window.lower:
        return -1
    return (local_date(moment, window.proration.tz) - window.first_day).days


def _reference_sum(events, window: Window) -> dict:
    unit_days: dict[int, Decimal] = {}
    for moment, value in events:
        if moment >= window.upper:
            continue
        days = window.days - max(_local_day(moment, window), 0)
        unit_days[days] = unit_days.get(days, Decimal(0)) + value
    return {days: units for days, units in unit_days.items() if units}


def _reference_unique(events, window: Window) -> dict:
    """Lago's prorated unique count, value by value, in Python."""
    by_value: dict = {}
    for index, (moment, value, is_add) in enumerate(events):
        if moment < window.upper:
            by_value.setdefault(value, []).append(
                (moment, index, is_add, _local_day(moment, window))
            )
    unit_days: dict[int, int] = {}
    for rows in by_value.values():
        rows.sort()
        kept = [
            row
            for row in rows
            if row[2] or not any(o[2] and o[3] == row[3] and o[0] > row[0] for o in rows)
        ]
        changes, present = [], False
        for row in kept:
            if row[2] != present:
                changes.append(row)
                present = row[2]
        for position, row in enumerate(changes):
            if not row[2]:
                continue
            end = changes[position + 1][3] if position + 1 < len(changes) else window.days - 1
            if end < 0:
                continue
            days = end - max(row[3], 0) + 1
            unit_days[days] = unit_days.get(days, 0) + 1
    return {days: Decimal(n) for days, n in unit_days.items()}


ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]


def _random_moments(rng, count, start=datetime(2024, 2, 20, tzinfo=UTC), days=45):
    return sorted(start + timedelta(minutes=rng.randint(0, days * 1440)) for _ in range(count))


@pytest.mark.parametrize("tz", ZONES)
def test_sum_sql_equals_the_reference(tz):
    charge = _setup("sum_agg")
    rng = random.Random(tz)
    events = [(m, Decimal(rng.randint(-3, 6))) for m in _random_moments(rng, 250)]
    _send(*[(moment, {"v": str(value)}) for moment, value in events])
    zone = ZoneInfo(tz)
    # March in the zone (DST starts the 10th in New York, the 31st in Paris), then a window cut
    # mid-hour on both sides (a termination, a plan change)
    windows = [
        _window(
            datetime(2024, 3, 1, tzinfo=zone).astimezone(UTC),
            datetime(2024, 4, 1, tzinfo=zone).astimezone(UTC),
            tz,
        ),
        _window(
            datetime(2024, 3, 3, 10, 37, tzinfo=UTC), datetime(2024, 3, 29, 15, 12, tzinfo=UTC), tz
        ),
    ]
    for window in windows:
        proration = _proration(charge, window)
        assert dict(proration.unit_days) == _reference_sum(events, window)
        assert [d for d, _ in proration.unit_days] == sorted(
            dict(proration.unit_days), reverse=True
        )


@pytest.mark.parametrize("tz", ZONES)
def test_unique_count_sql_equals_the_reference(tz):
    charge = _setup("unique_count_agg")
    rng = random.Random(tz)
    events = [
        (moment, rng.choice("abcdefgh"), rng.random() < 0.6) for moment in _random_moments(rng, 120)
    ]
    _send(
        *[
            (moment, {"v": value, **({} if is_add else {"operation_type": "remove"})})
            for moment, value, is_add in events
        ]
    )
    zone = ZoneInfo(tz)
    for lower, upper in [
        (datetime(2024, 3, 1, tzinfo=zone), datetime(2024, 4, 1, tzinfo=zone)),
        (datetime(2024, 3, 3, 10, 37, tzinfo=UTC), datetime(2024, 3, 29, 15, 12, tzinfo=UTC)),
    ]:
        window = _window(lower.astimezone(UTC), upper.astimezone(UTC), tz)
        proration = _proration(charge, window)
        assert dict(proration.unit_days) == _reference_unique(events, window)


@pytest.mark.parametrize("tz", ["Europe/Paris", "Asia/Kolkata"])
def test_daily_sums_from_rollups_and_raw_edges_equal_raw_events(tz):
    """Whole hours from rollups, edges from raw events, per local day: the same numbers as
    all-raw (Kolkata's half-hour offset puts midnight inside a UTC hour: all raw)."""
    charge = _setup("sum_agg")
    rng = random.Random(11)
    _send(
        *[
            (moment, {"v": rng.randint(1, 50)})
            for moment in _random_moments(rng, 400, datetime(2024, 3, 2, tzinfo=UTC), 20)
        ]
    )
    window = _window(
        datetime(2024, 3, 3, 10, 37, tzinfo=UTC), datetime(2024, 3, 20, 15, 12, tzinfo=UTC), tz
    )
    metric = charge.billable_metric
    raw: dict = {}
    _raw_stats(metric, window, [], [], window.lower, window.upper, raw, daily=True)
    assert _stats(metric, window, [], [], window.lower, window.upper, daily=True) == raw
    assert len(raw) >= 17  # one row per local day


def test_unprorated_charges_and_windows_without_days_are_untouched():
    charge = _setup("sum_agg")
    _send((5, {"v": 2}))
    [bucket] = aggregate_charge(charge, Window("s", *MARCH, HISTORY))
    assert (bucket.units, bucket.proration) == (Decimal(2), None)
    Charge.objects.update(prorated=False)
    charge.refresh_from_db()
    [bucket] = aggregate_charge(charge, _window())
    assert bucket.proration is None


def test_the_window_knows_its_local_days():
    window = _window(datetime(2024, 3, 10, 9, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))
    assert (window.first_day, window.days) == (date(2024, 3, 10), 22)
    assert window.days_left(datetime(2024, 3, 31, 23, tzinfo=UTC)) == 1
    assert window.days_left(datetime(2024, 3, 10, 23, tzinfo=UTC)) == 22
