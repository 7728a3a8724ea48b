"""Billing periods: which days a subscription's fee and usage cover.

Periods are computed on local calendar dates in the customer's time zone and only then converted
to UTC bounds (`local_bounds_utc`), so month ends, leap days and DST are handled once, here,
instead of in every query. Pure stdlib on purpose: no Django, easy to test exhaustively.

Schedules (Lago semantics, docs: lago-semantics.md §3-4):

* calendar: periods follow the calendar (Mon-Sun weeks, months, quarters, half-years, years);
  the first period is clipped to start on the subscription day.
* anniversary: period k starts on `add_months(anchor, k * months)` (or `anchor + 7k days` for
  weekly), the day clamped to the month's end, and ends the day before period k + 1 starts.
"""

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INTERVALS = ("weekly", "monthly", "quarterly", "semiannual", "yearly")
BILLING_TIMES = ("calendar", "anniversary")

# Months per period, the one table of interval lengths (a year counts 52 weeks).
_MONTHS = {
    "weekly": Fraction(12, 52),
    "monthly": Fraction(1),
    "quarterly": Fraction(3),
    "semiannual": Fraction(6),
    "yearly": Fraction(12),
}
# Only long plans may split their usage charges into monthly invoices.
_MONTHLY_CHARGES_INTERVALS = ("semiannual", "yearly")

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """Local days [start, end], both inclusive, so a one-day period has start == end."""

    start: date
    end: date

    def __post_init__(self) -> None:
        _check_day(self.start, "start")
        _check_day(self.end, "end")
        if self.end < self.start:
            raise ValueError(f"empty period: end {self.end} is before start {self.start}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` (may be negative), clamped to the target month's last day.

    Always computed from the original day (never chained), so an anchor on the 31st comes back
    to the 31st after a short month.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def full_period_containing(*, interval: str, billing_time: str, anchor: date, day: date) -> Period:
    """The whole (unclipped) period of the schedule that contains `day`.

    `anchor` is the subscription's local start date; calendar periods ignore it, anniversary
    periods are aligned on it (and extend before it, which is what unclipped means).
    """
    _check(interval, billing_time)
    _check_day(anchor, "anchor")
    _check_day(day, "day")
    if interval == "weekly":
        if billing_time == "calendar":
            start = day - timedelta(days=day.weekday())  # Monday
        else:
            start = anchor + timedelta(days=7 * ((day - anchor).days // 7))
        return Period(start, start + timedelta(days=6))

    months = int(interval_months(interval))
    if billing_time == "calendar":
        start = date(day.year, (day.month - 1) // months * months + 1, 1)
        return Period(start, add_months(start, months) - _ONE_DAY)

    # Anniversary: period k starts in month anchor.month + k * months. Guess k from the month
    # difference; the start may fall later in day's own month, then it is the period before.
    month_diff = (day.year - anchor.year) * 12 + day.month - anchor.month
    k = month_diff // months
    if add_months(anchor, k * months) > day:
        k -= 1
    start = add_months(anchor, k * months)
    return Period(start, add_months(anchor, (k + 1) * months) - _ONE_DAY)


def period_containing(*, interval: str, billing_time: str, anchor: date, day: date) -> Period:
    """The subscription's period containing `day`: the first one starts on the anchor.

    A subscription has no period before it starts, hence ValueError for `day` < `anchor`.
    """
    full = full_period_containing(
        interval=interval, billing_time=billing_time, anchor=anchor, day=day
    )
    if day < anchor:
        raise ValueError(f"day {day} is before the subscription start {anchor}")
    return Period(max(full.start, anchor), full.end)


def next_period(*, interval: str, billing_time: str, anchor: date, period: Period) -> Period:
    """The full period starting the day after `period.end`.

    ValueError if `period` does not end on a boundary of this schedule: the caller mixed up
    schedules, and silently returning an overlapping period would double-bill.
    """
    following = full_period_containing(
        interval=interval, billing_time=billing_time, anchor=anchor, day=period.end + _ONE_DAY
    )
    if following.start != period.end + _ONE_DAY:
        raise ValueError(f"{period} does not end on a {billing_time} {interval} boundary")
    return following


def periods_between(
    *, interval: str, billing_time: str, anchor: date, start: date, end: date
) -> list[Period]:
    """Consecutive periods covering the days [start, end]; the first is clipped to the anchor.

    The last period is returned whole (it may run past `end`). ValueError when `end` < `start`
    or `start` < `anchor` (days before the subscription belong to no period).
    """
    _check_day(end, "end")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    schedule = {"interval": interval, "billing_time": billing_time, "anchor": anchor}
    periods = [period_containing(**schedule, day=start)]
    while periods[-1].end < end:
        periods.append(next_period(**schedule, period=periods[-1]))
    return periods


def local_bounds_utc(period: Period, tz: str) -> tuple[datetime, datetime]:
    """UTC instants [from, to) of the local days of `period` in IANA zone `tz`.

    from = start 00:00 local, to = (end + 1 day) 00:00 local, so consecutive periods share a
    bound and a DST day simply lasts 23 or 25 hours. When midnight does not exist (clocks jump
    forward at 00:00), fold=0 resolves it to the instant the day actually begins.
    """
    zone = _zone(tz)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)

    return midnight(period.start), midnight(period.end + _ONE_DAY)


def local_date(moment: datetime, tz: str) -> date:
    """The calendar date of the aware instant `moment` in zone `tz`.

    Naive datetimes are rejected: guessing their zone is how events land in the wrong period.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: an aware (UTC) datetime is required")
    return moment.astimezone(_zone(tz)).date()


def proration(*, used: Period, full: Period) -> Fraction:
    """Share of `full` covered by `used`, in days, kept exact (rounding happens on money only)."""
    if not (full.contains(used.start) and full.contains(used.end)):
        raise ValueError(f"{used} does not lie within {full}")
    return Fraction(used.days, full.days)


def charges_period(
    *, interval: str, billing_time: str, anchor: date, day: date, bill_charges_monthly: bool
) -> Period:
    """The period whose usage charges are invoiced together with `day`'s.

    Yearly and semiannual plans with `bill_charges_monthly` invoice usage every month of the
    same schedule (monthly periods nest in the long ones); other intervals ignore the flag.
    """
    _check(interval, billing_time)
    if bill_charges_monthly and interval in _MONTHLY_CHARGES_INTERVALS:
        interval = "monthly"
    return period_containing(interval=interval, billing_time=billing_time, anchor=anchor, day=day)


def full_charges_period(
    *, interval: str, billing_time: str, anchor: date, day: date, bill_charges_monthly: bool
) -> Period:
    """The whole (unclipped) charges period containing `day`: what prorated charges divide by.

    A calendar subscription started mid-month still divides by the month's days, as its base fee
    does (the first period's `charges_period` is clipped to the anchor, this one is not).
    """
    _check(interval, billing_time)
    if bill_charges_monthly and interval in _MONTHLY_CHARGES_INTERVALS:
        interval = "monthly"
    return full_period_containing(
        interval=interval, billing_time=billing_time, anchor=anchor, day=day
    )


def utc_offsets(tz: str, lower: datetime, upper: datetime) -> list[tuple[datetime, int]]:
    """The UTC offsets of zone `tz` in force during [lower, upper), as (from, seconds) pairs in
    time order; the first `from` is `lower`. SQL uses them to put an instant on its local day
    with the same zone data as this module (SQLite has no time zones).

    Transitions are found by an hourly scan refined by bisection to the second, so a zone whose
    clocks change twice within one hour would be misread (no zone does).
    """
    zone = _zone(tz)
    lower, upper = lower.astimezone(UTC), upper.astimezone(UTC)

    def offset(moment: datetime) -> int:
        return int(moment.astimezone(zone).utcoffset().total_seconds())

    pairs = [(lower, offset(lower))]
    step = timedelta(hours=1)
    cursor = lower.replace(microsecond=0)  # whole seconds: transitions fall on them
    while cursor < upper:
        following = min(cursor + step, upper)
        if offset(following) != pairs[-1][1]:
            low, high = cursor, following  # offset(low) is the old one, offset(high) the new
            while high - low > timedelta(seconds=1):
                middle = low + timedelta(seconds=(high - low).total_seconds() // 2)
                if offset(middle) == pairs[-1][1]:
                    low = middle
                else:
                    high = middle
            if high < upper:
                pairs.append((high, offset(high)))
        cursor = following
    return pairs


def interval_months(interval: str) -> Fraction:
    """Months in one period of `interval`: 1, 3, 6, 12, and 12/52 for a week (a year counts 52
    weeks). The one place intervals become lengths: billing periods, recurring wallet top-ups,
    plan price comparison and the dashboard's MRR all derive from it."""
    _check(interval, BILLING_TIMES[0])
    return _MONTHS[interval]


def yearly_amount_factor(interval: str) -> int:
    """Periods per year, to compare plan prices per year (upgrade if the new one is >= old)."""
    return int(12 / interval_months(interval))


def _check(interval: str, billing_time: str) -> None:
    if interval not in INTERVALS:
        raise ValueError(f"unknown interval {interval!r}; expected one of {INTERVALS}")
    if billing_time not in BILLING_TIMES:
        raise ValueError(f"unknown billing_time {billing_time!r}; expected one of {BILLING_TIMES}")


def _check_day(value: object, name: str) -> None:
    # datetime is a date subclass; accepting one would silently use its UTC (not local) date.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a local date (see local_date), got {value!r}")


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r}") from exc
