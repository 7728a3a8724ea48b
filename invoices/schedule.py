"""A subscription's billing calendar: base-fee periods and charges periods on local dates in the
customer's time zone, with their UTC bounds. Thin over plans/periods.py (pure)."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction

from customers.models import Subscription
from customers.selectors import customer_timezone
from plans import periods
from plans.periods import Period

EPSILON = timedelta(microseconds=1)
SPLIT_INTERVALS = ("yearly", "semiannual")


@dataclass(frozen=True)
class Schedule:
    tz: str
    anchor: date
    interval: str
    billing_time: str
    bill_charges_monthly: bool

    @classmethod
    def of(cls, subscription: Subscription) -> "Schedule":
        tz = customer_timezone(subscription.customer)
        plan = subscription.plan
        return cls(
            tz=tz,
            anchor=periods.local_date(subscription.subscription_at, tz),
            interval=plan.interval,
            billing_time=subscription.billing_time,
            bill_charges_monthly=plan.bill_charges_monthly and plan.interval in SPLIT_INTERVALS,
        )

    @property
    def charges_interval(self) -> str:
        return "monthly" if self.bill_charges_monthly else self.interval

    def day(self, moment: datetime) -> date:
        return periods.local_date(moment, self.tz)

    def last_day_before(self, moment: datetime) -> date:
        """The local day of the instant just before `moment` (the last day of an ending period)."""
        return self.day(moment - EPSILON)

    def base_period(self, day: date) -> Period:
        return periods.full_period_containing(
            interval=self.interval, billing_time=self.billing_time, anchor=self.anchor, day=day
        )

    def charges_period(self, day: date) -> Period:
        return periods.full_period_containing(
            interval=self.charges_interval,
            billing_time=self.billing_time,
            anchor=self.anchor,
            day=day,
        )

    def bounds(self, period: Period) -> tuple[datetime, datetime]:
        return periods.local_bounds_utc(period, self.tz)

    def start(self, period: Period) -> datetime:
        return self.bounds(period)[0]

    def end(self, period: Period) -> datetime:
        return self.bounds(period)[1]

    def used_fraction(self, full: Period, first: date, last: date) -> Fraction:
        """Days of `full` between first and last (inclusive), over its days."""
        start, end = max(full.start, first), min(full.end, last)
        if end < start:
            return Fraction(0)
        return periods.proration(used=Period(start, end), full=full)
