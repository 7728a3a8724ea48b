"""Listing what is due only reads; scheduling a subscription without a next billing time is
the close's write, done before the list (by the beat task and `bill_due`)."""

from datetime import UTC, datetime

import pytest
import time_machine

from customers.models import Subscription
from customers.services import subscription_create
from invoices.services import subscriptions_due, subscriptions_schedule_unscheduled
from tests.factories import make_plan

pytestmark = pytest.mark.django_db
START = datetime(2024, 4, 10, tzinfo=UTC)


def unscheduled_subscription() -> Subscription:
    make_plan("pro", 1000)
    with time_machine.travel(START, tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "c1", "plan_code": "pro", "external_id": "s1"}
        )
    Subscription.objects.filter(pk=subscription.pk).update(next_billing_at=None)
    return subscription


def test_listing_due_subscriptions_leaves_an_unscheduled_one_unscheduled():
    subscription = unscheduled_subscription()

    assert subscriptions_due(datetime(2024, 4, 11, tzinfo=UTC)) == []
    subscription.refresh_from_db()
    assert subscription.next_billing_at is None


def test_scheduling_gives_the_first_boundary_and_the_ids_are_billed_in_the_same_run():
    subscription = unscheduled_subscription()

    scheduled = subscriptions_schedule_unscheduled()

    subscription.refresh_from_db()
    assert scheduled == [subscription.pk]
    assert subscription.next_billing_at == datetime(2024, 5, 1, tzinfo=UTC)
    now = datetime(2024, 4, 11, tzinfo=UTC)
    assert subscriptions_due(now) == []
    assert subscriptions_due(now, scheduled=scheduled) == [subscription.pk]
    assert subscriptions_schedule_unscheduled() == []
