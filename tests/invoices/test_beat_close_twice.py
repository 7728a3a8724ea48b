"""PostgreSQL: beat's close task fired twice at the same instant (two schedulers, or a
redelivered message running beside the original) bills each subscription once: one invoice
per subscription and boundary, one number each without a gap, one webhook each."""

import json
import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
import time_machine

from customers.services import subscription_create
from invoices.models import Invoice, InvoiceSubscription
from invoices.tasks import bill_due_subscriptions
from tests.factories import make_plan
from tests.races import race
from tests.webhooks.conftest import Receiver
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_endpoint_create

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
COUNT = 8
BOUNDARY = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture
def receiver():
    """A real HTTP endpoint on 127.0.0.1 recording the webhooks it receives."""
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
    thread.join(timeout=5)


def test_the_beat_close_fired_twice_at_once_bills_and_notifies_each_subscription_once(receiver):
    webhook_endpoint_create(
        data={"webhook_url": receiver.url(), "event_types": ["invoice.finalized"]}
    )
    make_plan("pro", 1500)
    with time_machine.travel(datetime(2024, 4, 1, tzinfo=UTC), tick=False):
        ids = [
            subscription_create(
                data={"external_customer_id": f"c{n}", "plan_code": "pro", "external_id": f"s{n}"}
            ).pk
            for n in range(COUNT)
        ]

    with time_machine.travel(BOUNDARY, tick=False):  # both at the very same instant
        assert race([bill_due_subscriptions, bill_due_subscriptions]) == []

    billings = InvoiceSubscription.objects.all()
    assert sorted(billings.values_list("subscription_id", flat=True)) == ids
    assert set(billings.values_list("boundary", flat=True)) == {BOUNDARY}
    invoices = Invoice.objects.order_by("number")
    assert [i.number for i in invoices] == [f"INV-202405-{n:04d}" for n in range(1, COUNT + 1)]
    assert [i.total_amount_cents for i in invoices] == [1500] * COUNT
    deliveries = WebhookDelivery.objects.filter(webhook_type="invoice.finalized")
    notified = Counter(d.payload["invoice"]["lago_id"] for d in deliveries)
    assert notified == Counter({str(i.lago_id): 1 for i in invoices})
    received = Counter(json.loads(hit.body)["invoice"]["lago_id"] for hit in receiver.hits)
    assert received == notified  # each sent once, none twice
