"""After finalization: a signed invoice.finalized webhook a receiver can verify, the PDF stored
and e-mailed. Nothing leaves for a rolled-back close."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import transaction

from customers.services import customer_upsert, subscription_create
from invoices.models import Invoice
from invoices.services import subscription_bill_due
from tests.factories import make_plan
from webhooks.services import webhook_endpoint_create
from webhooks.signing import endpoint_secret, verify

pytestmark = pytest.mark.django_db(transaction=True)


def test_finalized_invoice_is_signed_webhooked_stored_and_emailed(receiver, mailoutbox):
    endpoint = webhook_endpoint_create(
        data={"webhook_url": receiver.url(), "event_types": ["invoice.finalized"]}
    )
    make_plan("pro", 2500)
    customer_upsert(data={"external_id": "cust", "email": "ap@cust.example"})
    with time_machine.travel(datetime(2024, 4, 1, tzinfo=UTC), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "s"}
        )
    subscription_bill_due(
        subscription_id=subscription.pk, now=datetime(2024, 5, 1, 0, 1, tzinfo=UTC)
    )
    [hit] = receiver.hits
    assert verify(endpoint_secret(endpoint), hit.body, hit.headers["x-lago-signature"])
    assert not verify(endpoint_secret(endpoint), hit.body + b" ", hit.headers["x-lago-signature"])
    payload = json.loads(hit.body)
    assert payload["webhook_type"] == "invoice.finalized"
    assert payload["invoice"]["number"] == "INV-202405-0001"
    assert payload["invoice"]["total_amount_cents"] == 2500
    invoice = Invoice.objects.get()
    assert invoice.file.name.endswith(".pdf")
    [mail] = mailoutbox
    assert mail.to == ["ap@cust.example"]
    assert mail.attachments[0][0].endswith(".pdf")


def test_a_rolled_back_close_sends_nothing(receiver, mailoutbox):
    webhook_endpoint_create(data={"webhook_url": receiver.url()})
    make_plan("pro", 2500)
    with time_machine.travel(datetime(2024, 4, 1, tzinfo=UTC), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "s"}
        )
    with pytest.raises(RuntimeError), transaction.atomic():
        subscription_bill_due(
            subscription_id=subscription.pk, now=datetime(2024, 5, 1, 0, 1, tzinfo=UTC)
        )
        raise RuntimeError("crash after the invoice was written")
    assert not Invoice.objects.exists()
    assert receiver.hits == [] and mailoutbox == []
