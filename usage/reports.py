"""Usage of a subscription over a period, priced: the basis of current_usage, past_usage and
(later) invoice fees. Aggregation happens in SQL (usage/aggregation.py), pricing in the pure engine
(plans/pricing.py), rounding once per fee line in core/money.py."""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from core.money import from_minor_units, to_minor_units
from customers.models import Subscription
from customers.selectors import (
    customer_timezone,
    subscription_anchor_date,
    subscription_currency,
    subscription_last_day,
)
from plans import periods, pricing
from plans.models import Charge, ChargeFilter
from plans.price_lists import PriceList, price_list
from usage.aggregation import Bucket, ProrationDays, Window, aggregate_charge

ZERO = Decimal(0)


@dataclass
class FeeLine:
    """One priced bucket: a charge's filter (or default price) and pricing group."""

    charge: Charge
    charge_filter: ChargeFilter | None
    group: dict
    units: Decimal
    aggregated_units: Decimal
    events_count: int
    result: pricing.PricingResult
    amount_cents: int  # rounded once, here
    bucket: Bucket | None = None  # what was priced (kept for projections)
    properties: dict = field(default_factory=dict)  # the properties it was priced with


@dataclass
class ChargeUsage:
    charge: Charge
    lines: list[FeeLine] = field(default_factory=list)

    @property
    def units(self) -> Decimal:
        return sum((line.units for line in self.lines), ZERO)

    @property
    def aggregated_units(self) -> Decimal:
        return sum((line.aggregated_units for line in self.lines), ZERO)

    @property
    def events_count(self) -> int:
        return sum(line.events_count for line in self.lines)

    @property
    def amount_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


@dataclass
class UsageReport:
    subscription: Subscription
    from_datetime: datetime
    to_datetime: datetime  # exclusive
    currency: str
    charges: list[ChargeUsage]

    @property
    def amount_cents(self) -> int:
        return sum(charge.amount_cents for charge in self.charges)


def lineage_start(subscription: Subscription) -> datetime:
    """When the subscription's external id first started (plan changes keep the history)."""
    start = subscription.started_at or subscription.subscription_at
    current = subscription
    while current.previous_subscription_id:
        current = current.previous_subscription
        start = min(start, current.started_at or current.subscription_at)
    return start


def usage_window(subscription: Subscription, lower: datetime, upper: datetime) -> Window:
    """The aggregation window of a subscription's usage in [lower, upper): its history start for
    recurring metrics, and the days prorated charges count in (the customer's zone; the days of
    the whole charges period holding `lower`, as the base fee divides by)."""
    tz = customer_timezone(subscription.customer)
    anchor = subscription_anchor_date(subscription, tz)
    plan = subscription.plan
    period = periods.full_charges_period(
        interval=plan.interval,
        billing_time=subscription.billing_time,
        anchor=anchor,
        day=periods.local_date(lower, tz),
        bill_charges_monthly=plan.bill_charges_monthly,
    )
    last_day = subscription_last_day(subscription, tz)
    days = ProrationDays(tz=tz, period_days=period.days, last_day=last_day)
    return Window(subscription.external_id, lower, upper, lineage_start(subscription), days)


def charges_period_bounds(subscription: Subscription, at: datetime) -> tuple[datetime, datetime]:
    """UTC [from, to) of the charges period containing `at` (monthly when a yearly plan bills
    charges monthly), in the customer's time zone."""
    tz = customer_timezone(subscription.customer)
    anchor = subscription_anchor_date(subscription, tz)
    day = max(periods.local_date(at, tz), anchor)
    plan = subscription.plan
    period = periods.charges_period(
        interval=plan.interval,
        billing_time=subscription.billing_time,
        anchor=anchor,
        day=day,
        bill_charges_monthly=plan.bill_charges_monthly,
    )
    return periods.local_bounds_utc(period, tz)


def _price_bucket(
    charge: Charge, bucket: Bucket, filters: dict, currency: str, prices: PriceList | None
) -> FeeLine:
    charge_filter = filters.get(bucket.filter_id)
    own = prices.properties(charge) if prices else charge.properties
    properties = charge_filter.properties if charge_filter else own
    metric = charge.billable_metric
    units = pricing.round_units(
        bucket.units, metric.rounding_function or None, metric.rounding_precision or 0
    )
    proration = bucket.proration
    if proration is not None:  # Lago rounds the prorated units like the metric
        rounding = (metric.rounding_function or None, metric.rounding_precision or 0)
        proration = replace(proration, rounding=rounding)
    usage = pricing.UsageInput(
        units=units,
        events_count=bucket.events_count,
        first_events_total=bucket.first_events_total,
        clamped_fees_total=bucket.clamped_fees_total,
        precise_total=from_minor_units(bucket.precise_total_cents, currency),
        proration=proration,
    )
    result = pricing.price(charge.charge_model, properties, usage)
    group_keys = charge.properties.get("pricing_group_keys") or []
    return FeeLine(
        charge=charge,
        charge_filter=charge_filter,
        group=dict(zip(group_keys, bucket.group, strict=True)),
        units=result.units,
        aggregated_units=bucket.units,
        events_count=bucket.events_count,
        result=result,
        amount_cents=to_minor_units(
            prices.convert(charge, result.amount) if prices else result.amount, currency
        ),
        bucket=bucket,
        properties=properties,
    )


def charge_usage(
    charge: Charge, window: Window, currency: str, prices: PriceList | None = None
) -> ChargeUsage:
    """Every bucket of a charge priced; a charge without usage prices zero units once."""
    filters = {f.pk: f for f in charge.filters.all() if f.deleted_at is None}
    buckets = aggregate_charge(charge, window, list(filters.values()))
    if not buckets:
        group = tuple(None for _ in charge.properties.get("pricing_group_keys") or [])
        buckets = [Bucket(0, group)]
    lines = [_price_bucket(charge, b, filters, currency, prices) for b in buckets]
    return ChargeUsage(charge, lines)


def subscription_usage(
    subscription: Subscription,
    lower: datetime,
    upper: datetime,
    *,
    billable_only: bool = False,
    on: datetime | None = None,
) -> UsageReport:
    """Priced usage of every charge of the subscription's plan in [lower, upper), clipped to the
    time the subscription was active. `billable_only` keeps the charges an end-of-period invoice
    bills (in arrears and invoiceable)."""
    start = max(lower, subscription.started_at or lower)
    end = min(upper, subscription.terminated_at or upper)
    window = usage_window(subscription, start, max(start, end))
    currency = subscription_currency(subscription)
    prices = price_list(subscription.plan, currency, (on or upper).date())
    charges = subscription.plan.charges.live()
    if billable_only:
        charges = charges.filter(pay_in_advance=False, invoiceable=True)
    charges = (
        charges.select_related("billable_metric")
        .prefetch_related("filters")
        .order_by("created_at", "id")
    )
    return UsageReport(
        subscription=subscription,
        from_datetime=lower,
        to_datetime=upper,
        currency=currency,
        charges=[charge_usage(charge, window, currency, prices) for charge in charges],
    )


def current_usage(subscription: Subscription, at: datetime | None = None) -> UsageReport:
    lower, upper = charges_period_bounds(subscription, at or timezone.now())
    return subscription_usage(subscription, lower, upper)


def past_periods(subscription: Subscription, at: datetime | None = None) -> list:
    """The subscription's closed charges periods, newest first, as UTC [from, to) bounds. The
    period of a termination is closed too."""
    if subscription.started_at is None:
        return []
    if subscription.terminated_at:
        limit = charges_period_bounds(subscription, subscription.terminated_at)[1]
    else:
        limit = charges_period_bounds(subscription, at or timezone.now())[0]
    bounds, cursor = [], subscription.started_at
    while cursor < limit:
        lower, upper = charges_period_bounds(subscription, cursor)
        bounds.append((lower, upper))
        cursor = upper
    return list(reversed(bounds))


def _elapsed(lower: datetime, upper: datetime, at: datetime) -> Decimal:
    """The fraction of [lower, upper) gone at `at`, exactly (microseconds)."""
    total = (upper - lower) // timedelta(microseconds=1)
    gone = (min(max(at, lower), upper) - lower) // timedelta(microseconds=1)
    return Decimal(gone) / Decimal(total) if total > 0 else Decimal(1)


def _scaled(bucket: Bucket, factor: Decimal) -> Bucket:
    """A bucket as it would be if every event came `factor` times (the projection's pace).
    Prorated buckets are recurring (factor 1): their days already run to the period's end."""
    return replace(
        bucket,
        units=bucket.units * factor,
        events_count=int(bucket.events_count * factor),
        precise_total_cents=bucket.precise_total_cents * factor,
        clamped_fees_total=(
            None if bucket.clamped_fees_total is None else bucket.clamped_fees_total * factor
        ),
    )


def projected_usage(report: UsageReport, at: datetime) -> UsageReport:
    """The current period's usage extrapolated to its end at the pace so far (Lago's
    projected_usage): metered charges scale with the time gone, recurring metrics stay as they
    are; each projected bucket is priced by the same engine and rounded once."""
    elapsed = _elapsed(report.from_datetime, report.to_datetime, at)
    prices = price_list(report.subscription.plan, report.currency, report.to_datetime.date())
    charges = []
    for usage in report.charges:
        charge = usage.charge
        recurring = charge.billable_metric.recurring
        factor = pricing.projected_units(Decimal(1), elapsed, recurring=recurring)
        filters = {
            line.charge_filter.pk: line.charge_filter
            for line in usage.lines
            if line.charge_filter is not None
        }
        lines = [
            _price_bucket(charge, _scaled(line.bucket, factor), filters, report.currency, prices)
            for line in usage.lines
        ]
        charges.append(ChargeUsage(charge, lines))
    return UsageReport(
        subscription=report.subscription,
        from_datetime=report.from_datetime,
        to_datetime=report.to_datetime,
        currency=report.currency,
        charges=charges,
    )
