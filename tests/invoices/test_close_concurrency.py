"""PostgreSQL: the close running twice at once on the same subscriptions makes one invoice each."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.db import transaction

from customers.services import subscription_create
from invoices.models import Invoice, InvoiceSubscription
from invoices.services import subscription_bill, subscription_bill_due
from tests.factories import make_plan
from tests.races import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
BOUNDARY = datetime(2024, 5, 1, tzinfo=UTC)


def _race(target, count: int = 6) -> list:
    return race([target] * count)


def test_concurrent_closes_make_one_invoice_per_subscription():
    make_plan("pro", 1000)
    with time_machine.travel(datetime(2024, 4, 1, tzinfo=UTC), tick=False):
        ids = [
            subscription_create(
                data={"external_customer_id": f"c{n}", "plan_code": "pro", "external_id": f"s{n}"}
            ).pk
            for n in range(5)
        ]

    def close_everything():
        for subscription_id in ids:
            subscription_bill_due(subscription_id=subscription_id, now=BOUNDARY)

    assert _race(close_everything) == []
    assert Invoice.objects.count() == 5
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-202405-000{n}" for n in range(1, 6)]  # gapless under contention


def test_the_unique_constraint_is_the_backstop():
    make_plan("pro", 1000)
    with time_machine.travel(datetime(2024, 4, 1, tzinfo=UTC), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "c", "plan_code": "pro", "external_id": "s"}
        )

    def bill_directly():
        subscription_bill(
            subscription_id=subscription.pk,
            boundary=BOUNDARY,
            reason="subscription_periodic",
            now=BOUNDARY,
        )

    assert _race(bill_directly) == []
    assert InvoiceSubscription.objects.filter(subscription=subscription).count() == 1


def test_racing_writers_without_the_lock_leave_one_invoice_and_no_orphan():
    """The backstop itself: writers that skip the row lock and the exists check (each in its own
    transaction) race on one boundary; the unique constraint lets one through and the others
    roll back their invoice rows with their billing rows."""
    from invoices.services.close import AlreadyBilled, billing_invoice_create
    from invoices.services.fees import plan_for

    make_plan("pro", 1000)
    with time_machine.travel(datetime(2024, 4, 1, tzinfo=UTC), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "c", "plan_code": "pro", "external_id": "s"}
        )
    refused: list = []

    def write_without_lock():
        plan = plan_for(subscription, BOUNDARY, "subscription_periodic")
        with transaction.atomic():  # caught inside and committed, as subscription_bill does
            try:
                billing_invoice_create(plan, BOUNDARY)
            except AlreadyBilled:
                refused.append(1)

    assert _race(write_without_lock) == []
    assert len(refused) == 5
    assert InvoiceSubscription.objects.filter(subscription=subscription).count() == 1
    assert Invoice.objects.count() == 1  # no empty invoice left by the refused writers
