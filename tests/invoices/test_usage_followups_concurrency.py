"""PostgreSQL: follow-ups racing each other, the events and the termination never bill an
in-advance call twice nor leave one unbilled (deltas computed under the subscription's row lock;
the debounce key deleted before usage is read). Calls cost $0.25 each, billed in advance."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

from customers.models import Subscription
from customers.services import subscription_create, subscription_terminate
from invoices.models import Fee, Invoice
from invoices.services import subscription_bill_due
from invoices.tasks import usage_followup
from tests.factories import make_metric, make_plan, standard_charge
from tests.invoices.followups import broker
from tests.races import race
from usage.services import events_ingest

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
CALL = 25
T0 = datetime(2024, 4, 10, 12, tzinfo=UTC)


@pytest.fixture
def subscription() -> Subscription:
    cache.clear()
    calls = make_metric("calls", field_name="units")
    make_plan("pro", 0, charges=[standard_charge(calls, "0.25", pay_in_advance=True)])
    with time_machine.travel(datetime(2024, 4, 1, tzinfo=UTC), tick=False):
        return subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )


def send(tx: str, calls: int, moment: datetime = T0) -> None:
    events_ingest(
        raws=[
            {
                "transaction_id": tx,
                "external_subscription_id": "sub",
                "code": "calls",
                "timestamp": moment.isoformat(),
                "properties": {"units": calls},
            }
        ]
    )


def calls_billed() -> int:
    fees = Fee.objects.filter(charge__isnull=False).exclude(invoice__status="voided")
    return sum(fees.values_list("amount_cents", flat=True))


def test_concurrent_follow_ups_bill_once(subscription):
    with time_machine.travel(T0, tick=False):
        with broker():
            send("a", 3)
            send("b", 4)
        assert race([lambda: usage_followup.apply(args=("sub",))] * 6) == []
    assert list(Invoice.objects.values_list("total_amount_cents", flat=True)) == [7 * CALL]
    assert calls_billed() == 7 * CALL


def test_events_racing_their_follow_ups_are_each_billed_once(subscription, settings):
    """Six events committed at once, each scheduling (debounced, eager) a run in its thread.
    The clock is frozen, so no debounce key ever expires: only the run's deleting its key
    before reading usage lets an event that commits after that read schedule its own run."""
    settings.USAGE_FOLLOWUP_DELAY_SECONDS = 10
    with time_machine.travel(T0, tick=False):
        errors = race([lambda n=n: send(f"e{n}", n + 1) for n in range(6)])
    assert errors == []
    assert calls_billed() == 21 * CALL
    [april] = subscription_bill_due(
        subscription_id=subscription.pk, now=datetime(2024, 5, 1, 0, 1, tzinfo=UTC)
    )
    assert april.fees.count() == 0  # nothing left for the close
    assert calls_billed() == 21 * CALL


def test_termination_racing_follow_ups_bills_each_call_once(subscription):
    with time_machine.travel(T0, tick=False), broker():
        send("a", 3)
        send("b", 2)

    def terminate():
        subscription_terminate(subscription=Subscription.objects.get(pk=subscription.pk))

    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        runs = [lambda: usage_followup.apply(args=("sub",))] * 5
        assert race([*runs, terminate]) == []
    final = Invoice.objects.get(billings__invoicing_reason="subscription_terminating")
    assert final.status == "finalized"
    assert calls_billed() == 5 * CALL  # on the in-advance invoice or swept by the final one
