"""The invoice's admin page lists its payment attempts (issue 18): the payments app adds the
section through invoicing's hook; each attempt's provider events, and no other payment's."""

import pytest
from django.urls import reverse

from customers.services import customer_upsert
from payments.models import Payment, StripeEvent
from tests.payments.helpers import at, finalized_invoice

pytestmark = pytest.mark.django_db


def _event(event_id: str, payment_id: int, attempt: str, kind: str, moment) -> StripeEvent:
    intent = f"pi_{payment_id}_{attempt}"
    metadata = {"payment_id": str(payment_id), "attempt": attempt}
    return StripeEvent.objects.create(
        event_id=event_id,
        event_type=kind,
        object_id=intent,
        provider_created_at=moment,
        payload={"id": event_id, "data": {"object": {"id": intent, "metadata": metadata}}},
        outcome="applied",
    )


def test_the_invoice_page_lists_each_attempt_of_its_payment(admin_client):
    customer = customer_upsert(data={"external_id": "acme", "currency": "USD"})[0]
    invoice = finalized_invoice(4200)
    payment = Payment.objects.create(
        invoice=invoice,
        customer=customer,
        amount_cents=4200,
        currency="USD",
        status=Payment.Status.SUCCEEDED,
        attempts=2,
        provider_payment_id="pi_x_2",
    )
    _event("evt_1", payment.pk, "1", "payment_intent.payment_failed", at(2024, 5, 1, 1))
    _event("evt_2", payment.pk, "2", "payment_intent.succeeded", at(2024, 5, 4, 1))
    _event("evt_other", payment.pk + 1000, "1", "payment_intent.canceled", at(2024, 5, 2))
    page = admin_client.get(reverse("admin:invoices_invoice_change", args=[invoice.pk]))
    text = page.content.decode()
    assert "payment (2 attempts)" in text and "$42.00" in text
    failed = text.index("payment_intent.payment_failed")
    assert failed < text.index("payment_intent.succeeded")  # oldest first
    assert "attempt 1" in text and "attempt 2" in text
    assert "payment_intent.canceled" not in text  # another payment's event
