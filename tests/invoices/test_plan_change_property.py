"""Property: whatever the timeline of plan changes, terminations, planned ends and periods
closed ahead of the clock, the base fees invoiced for a subscription minus what credit notes gave
back equal its price for the days it was active, to the cent.

The expected price is computed here independently of the billing code: for each subscription
row (one per plan it was on), the local days from its start to its last used day (a
termination bills its own day; a plan change bills the old plan until the day before the change
and the new plan from that day), cut into that plan's billing periods, each period's days priced
at amount x days / period days and rounded half-up once, exactly with integers."""

import os
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from customers.models import Subscription
from customers.services import (
    customer_upsert,
    subscription_create,
    subscription_terminate,
    subscription_update,
)
from customers.tasks import activate_due_subscriptions, terminate_ended_subscriptions
from invoices.models import CreditNoteItem, Fee
from invoices.services import subscription_bill_due
from invoices.tasks import bill_due_subscriptions
from plans import periods
from tests.factories import make_plan

pytestmark = pytest.mark.django_db

ZONES = ("UTC", "America/New_York", "Asia/Tokyo")
EPOCH = datetime(2023, 12, 1, tzinfo=UTC)

op = st.tuples(
    st.sampled_from(["change", "terminate", "close_ahead", "end_at", "beat"]),
    st.integers(min_value=0, max_value=45),  # days after the previous step
    st.integers(min_value=0, max_value=23),  # hour of that day
    st.integers(min_value=1, max_value=70),  # days ahead (close_ahead) or until the end (end_at)
)
timeline = st.fixed_dictionaries(
    {
        "amounts": st.tuples(
            st.integers(min_value=1, max_value=99_999), st.integers(min_value=1, max_value=99_999)
        ),
        "advance": st.tuples(st.booleans(), st.booleans()),
        "billing_time": st.sampled_from(["calendar", "anniversary"]),
        "zone": st.sampled_from(ZONES),
        "start_day": st.integers(min_value=0, max_value=120),  # Dec 2023 - Mar 2024: 28-31 days
        "start_hour": st.integers(min_value=0, max_value=23),
        "ops": st.lists(op, min_size=1, max_size=4),
    }
)


def beat(moment: datetime) -> None:
    with time_machine.travel(moment, tick=False):
        activate_due_subscriptions()
        terminate_ended_subscriptions()
        bill_due_subscriptions()


def active_row() -> Subscription | None:
    return Subscription.objects.filter(external_id="sub", status="active").first()


def run_timeline(case: dict) -> datetime:
    """Play the case; return the moment by which everything has ended and been billed."""
    now = EPOCH + timedelta(days=case["start_day"], hours=case["start_hour"])
    plan_codes = ["a", "b"]
    with time_machine.travel(now, tick=False):
        subscription_create(
            data={
                "external_customer_id": "cust",
                "plan_code": "a",
                "external_id": "sub",
                "billing_time": case["billing_time"],
            }
        )
    current = 0
    for kind, days, hour, span in case["ops"]:
        day = (now + timedelta(days=days)).date()
        now = max(now, datetime(day.year, day.month, day.day, hour, 7, tzinfo=UTC))
        beat(now)
        row = active_row()
        if row is None:
            break
        if kind == "change":
            current = 1 - current
            with time_machine.travel(now, tick=False):
                data = {"external_customer_id": "cust", "external_id": "sub"}
                subscription_create(data=data | {"plan_code": plan_codes[current]})
        elif kind == "terminate":
            with time_machine.travel(now, tick=False):
                subscription_terminate(subscription=row)
            break
        elif kind == "close_ahead":  # `bill_due --now` in the future for this subscription
            with time_machine.travel(now, tick=False):
                subscription_bill_due(subscription_id=row.pk, now=now + timedelta(days=span))
        elif kind == "end_at":
            with time_machine.travel(now, tick=False):
                ending = now + timedelta(days=span)
                subscription_update(subscription=row, data={"ending_at": ending.isoformat()})
    end = now + timedelta(days=75)
    beat(end)
    row = active_row()
    if row is not None:
        with time_machine.travel(end, tick=False):
            subscription_terminate(subscription=row)
    beat(end + timedelta(days=1))
    return end


def local_day(moment: datetime, zone: str) -> date:
    return periods.local_date(moment, zone)


def expected_cents(zone: str) -> int:
    """Each row's active local days, cut into its plan's periods, priced and rounded half-up."""
    total = 0
    for row in Subscription.objects.filter(external_id="sub").exclude(started_at=None):
        first = local_day(row.started_at, zone)
        took_over = row.next_subscriptions.filter(started_at=row.terminated_at).exists()
        if took_over:
            last = local_day(row.terminated_at, zone) - timedelta(days=1)
        else:
            last = local_day(row.terminated_at - timedelta(microseconds=1), zone)
        anchor = local_day(row.subscription_at, zone)
        day = first
        while day <= last:
            period = periods.full_period_containing(
                interval="monthly", billing_time=row.billing_time, anchor=anchor, day=day
            )
            used = (min(last, period.end) - day).days + 1
            amount = row.plan.amount_cents
            total += (2 * amount * used + period.days) // (2 * period.days)  # exact half-up
            day = period.end + timedelta(days=1)
    return total


def net_invoiced_cents() -> int:
    fees = Fee.objects.filter(fee_type="subscription").exclude(invoice__status="voided")
    credited = CreditNoteItem.objects.filter(fee__fee_type="subscription")
    return sum(f.amount_cents for f in fees) - sum(i.amount_cents for i in credited)


@settings(
    max_examples=int(os.environ.get("PLAN_CHANGE_EXAMPLES", "30")),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=timeline)
def test_invoiced_minus_credited_is_the_price_of_the_days_active(case):
    with transaction.atomic():
        make_plan("a", case["amounts"][0], pay_in_advance=case["advance"][0])
        make_plan("b", case["amounts"][1], pay_in_advance=case["advance"][1])
        customer_upsert(data={"external_id": "cust", "timezone": case["zone"]})
        run_timeline(case)
        assert not Subscription.objects.filter(status__in=["active", "pending"]).exists()
        assert net_invoiced_cents() == expected_cents(case["zone"])
        transaction.set_rollback(True)
