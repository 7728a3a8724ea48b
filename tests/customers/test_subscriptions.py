"""Subscription states and dates, driven by the clock: pending starts, upgrades, downgrades at
period end, planned ends, termination and cancellation."""

from datetime import UTC, datetime

import pytest
import time_machine

from core.errors import RuleViolation, ValidationFailed
from customers.models import Subscription
from customers.services import (
    customer_delete,
    customer_upsert,
    subscription_cancel,
    subscription_create,
    subscription_terminate,
)
from customers.tasks import activate_due_subscriptions, terminate_ended_subscriptions
from tests.factories import make_plan

pytestmark = pytest.mark.django_db
Status = Subscription.Status


def _subscribe(plan_code="basic", external_id="sub", **extra) -> Subscription:
    return subscription_create(
        data={
            "external_customer_id": "cust",
            "plan_code": plan_code,
            "external_id": external_id,
            **extra,
        }
    )


@time_machine.travel(datetime(2024, 3, 10, 12, tzinfo=UTC), tick=False)
def test_future_start_stays_pending_until_the_activation_task_runs():
    make_plan("basic")
    subscription = _subscribe(subscription_at="2024-03-20T00:00:00Z")
    assert subscription.status == Status.PENDING
    activate_due_subscriptions()
    subscription.refresh_from_db()
    assert subscription.status == Status.PENDING
    with time_machine.travel(datetime(2024, 3, 20, 0, 5, tzinfo=UTC), tick=False):
        activate_due_subscriptions()
        activate_due_subscriptions()  # a second beat tick changes nothing
    subscription.refresh_from_db()
    assert subscription.status == Status.ACTIVE
    # dated at its planned start, not at the time the beat task happened to run
    assert subscription.started_at == datetime(2024, 3, 20, 0, 0, tzinfo=UTC)


@time_machine.travel(datetime(2024, 3, 10, 12, tzinfo=UTC), tick=False)
def test_past_start_is_active_at_once():
    make_plan("basic")
    subscription = _subscribe(subscription_at="2024-01-01T00:00:00Z")
    assert subscription.status == Status.ACTIVE
    assert subscription.started_at == datetime(2024, 1, 1, tzinfo=UTC)


@time_machine.travel(datetime(2024, 3, 10, 12, tzinfo=UTC), tick=False)
def test_upgrade_takes_effect_now_and_keeps_the_anchor():
    make_plan("basic", 1000)
    make_plan("yearly", 10000, interval="yearly")  # 100/yr vs 120/yr: a downgrade
    make_plan("premium", 5000)
    old = _subscribe("basic", subscription_at="2024-02-15T00:00:00Z", billing_time="anniversary")
    new = _subscribe("premium")
    old.refresh_from_db()
    assert (old.status, old.terminated_at) == (
        Status.TERMINATED,
        datetime(2024, 3, 10, 12, tzinfo=UTC),
    )
    assert new.status == Status.ACTIVE and new.previous_subscription == old
    assert new.subscription_at == old.subscription_at and new.billing_time == "anniversary"


def test_downgrade_starts_when_the_period_ends_in_the_customer_zone():
    make_plan("basic", 1000)
    make_plan("premium", 5000)
    customer_upsert(data={"external_id": "cust", "timezone": "America/New_York"})
    with time_machine.travel(datetime(2024, 3, 10, 12, tzinfo=UTC), tick=False):
        current = _subscribe("premium")
        pending = _subscribe("basic")
    assert pending.status == Status.PENDING
    # March ends at 2024-04-01 00:00 New York time = 04:00 UTC (after the DST change).
    with time_machine.travel(datetime(2024, 4, 1, 3, 59, tzinfo=UTC), tick=False):
        activate_due_subscriptions()
    pending.refresh_from_db()
    assert pending.status == Status.PENDING
    with time_machine.travel(datetime(2024, 4, 1, 4, 0, tzinfo=UTC), tick=False):
        activate_due_subscriptions()
    pending.refresh_from_db()
    current.refresh_from_db()
    assert pending.status == Status.ACTIVE and current.status == Status.TERMINATED


@time_machine.travel(datetime(2024, 3, 10, 12, tzinfo=UTC), tick=False)
def test_a_new_downgrade_replaces_the_pending_one():
    for code, amount in (("small", 100), ("medium", 500), ("large", 5000)):
        make_plan(code, amount)
    _subscribe("large")
    first = _subscribe("medium")
    second = _subscribe("small")
    first.refresh_from_db()
    assert first.status == Status.CANCELED and second.status == Status.PENDING


def test_ending_at_terminates_through_the_beat_task():
    make_plan("basic")
    with time_machine.travel(datetime(2024, 3, 1, tzinfo=UTC), tick=False):
        subscription = _subscribe(ending_at="2024-03-15T00:00:00Z")
    with time_machine.travel(datetime(2024, 3, 15, 0, 3, tzinfo=UTC), tick=False):
        terminate_ended_subscriptions()
    subscription.refresh_from_db()
    assert subscription.status == Status.TERMINATED
    assert subscription.terminated_at == datetime(2024, 3, 15, tzinfo=UTC)


def test_terminate_is_idempotent_and_cancel_needs_pending():
    make_plan("basic")
    subscription = _subscribe()
    subscription_terminate(subscription=subscription)
    again = subscription_terminate(subscription=subscription)
    assert again.status == Status.TERMINATED
    with pytest.raises(RuleViolation):
        subscription_cancel(subscription=subscription)


def test_ending_before_start_is_refused():
    make_plan("basic")
    with pytest.raises(ValidationFailed) as error:
        _subscribe(subscription_at="2024-03-10T00:00:00Z", ending_at="2024-03-01T00:00:00Z")
    assert error.value.errors == {"ending_at": ["invalid_date"]}


def test_deleting_a_customer_closes_its_subscriptions():
    make_plan("basic")
    active = _subscribe()
    customer_delete(customer=active.customer)
    active.refresh_from_db()
    assert active.status == Status.TERMINATED


def test_same_external_id_on_another_customer_is_refused():
    make_plan("basic")
    _subscribe()
    with pytest.raises(ValidationFailed) as error:
        subscription_create(
            data={"external_customer_id": "other", "plan_code": "basic", "external_id": "sub"}
        )
    assert error.value.errors == {"external_id": ["value_already_exist"]}
