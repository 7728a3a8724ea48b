"""Reads about customers and subscriptions: lookups, time zones, current billing periods."""

from datetime import datetime, timedelta

from django.utils import timezone

from core.errors import NotFound
from core.selectors import organization_get
from customers.models import Customer, Subscription
from plans import periods


def customer_get(*, external_id: str) -> Customer:
    customer = Customer.objects.live().filter(external_id=external_id).first()
    if customer is None:
        raise NotFound("customer")
    return customer


def customer_timezone(customer: Customer) -> str:
    """The customer's IANA zone, else the organization's (UTC by default)."""
    return customer.timezone or organization_get().timezone or "UTC"


def subscription_get(*, external_id: str, status: str | None = None) -> Subscription:
    """The subscription behind an external id: the active one, else the newest of any status,
    or exactly `status` when asked (e.g. ?status=pending)."""
    rows = Subscription.objects.filter(external_id=external_id).select_related("customer", "plan")
    if status:
        subscription = rows.filter(status=status).first()
    else:
        subscription = rows.filter(status=Subscription.Status.ACTIVE).first() or rows.first()
    if subscription is None:
        raise NotFound("subscription")
    return subscription


def subscription_anchor_date(subscription: Subscription, tz: str):
    """The local date billing periods are aligned on (the original subscription date)."""
    return periods.local_date(subscription.subscription_at, tz)


def subscription_current_period(
    subscription: Subscription, at: datetime | None = None
) -> tuple[datetime, datetime] | None:
    """UTC [from, to) of the billing period containing `at` (now), or None if not started."""
    if subscription.status != Subscription.Status.ACTIVE or subscription.started_at is None:
        return None
    tz = customer_timezone(subscription.customer)
    anchor = subscription_anchor_date(subscription, tz)
    day = max(periods.local_date(at or timezone.now(), tz), anchor)
    period = periods.period_containing(
        interval=subscription.plan.interval,
        billing_time=subscription.billing_time,
        anchor=anchor,
        day=day,
    )
    return periods.local_bounds_utc(period, tz)


def subscription_currency(subscription: Subscription) -> str:
    """The currency a subscription is billed in: its customer's (else its plan's)."""
    return subscription.customer.currency or subscription.plan.amount_currency


def subscription_handed_over(subscription: Subscription) -> bool:
    """A plan change (an upgrade, or a downgrade at the period end) started a new subscription
    at the very instant this one was terminated: the new plan owns that day."""
    if subscription.terminated_at is None:
        return False
    return subscription.next_subscriptions.filter(
        started_at=subscription.terminated_at,
        status__in=[Subscription.Status.ACTIVE, Subscription.Status.TERMINATED],
    ).exists()


def subscription_last_day(subscription: Subscription, tz: str):
    """The last local day a terminated subscription is billed for (None while it runs).

    Lago: a termination bills its own day; a plan change bills the old plan for the days
    before the change and the new plan from that day on (so the change day is paid once)."""
    if subscription.terminated_at is None:
        return None
    if subscription_handed_over(subscription):
        return periods.local_date(subscription.terminated_at, tz) - timedelta(days=1)
    return periods.local_date(subscription.terminated_at - timedelta(microseconds=1), tz)


def subscription_fixed_charges(subscription: Subscription) -> list[tuple]:
    """(fixed charge, units) of the subscription's plan: its own units where it has an override
    (set on that fixed charge, or on the catalog one its override plan copies), else the
    plan's."""
    own = {o.fixed_charge_id: o.units for o in subscription.fixed_charge_units.all()}
    rows = subscription.plan.fixed_charges.live().select_related("add_on", "parent")
    return [(row, own.get(row.pk, own.get(row.parent_id, row.units))) for row in rows]
