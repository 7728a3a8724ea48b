"""GET /customers/{external_customer_id}/payments: the customer's payments in Lago's
PaymentObject shape, newest first, ?invoice_id= filter, 404 customer_not_found."""

import pytest

from payments.models import Payment
from payments.services import payment_apply_intent
from tests.openapi_check import spec_errors
from tests.payments.test_wallet_transaction_payment_url import customer, provider, purchase  # noqa: F401

pytestmark = pytest.mark.django_db
# The test's in-memory provider is not one of Lago's provider types (Stripe's name is).
GAPS = (
    r"payments/\*/payment_provider_type: 'hosted' is not one of .*",
    r"payments/\*/reference: None is not of type 'string'",  # Lago sends null without one
)


def test_payments_of_the_customer(api, provider):  # noqa: F811
    acme = customer()
    row = purchase()
    api.post(f"/api/v1/wallet_transactions/{row.lago_id}/payment_url")
    payment = Payment.objects.get(invoice=row.invoice)
    payment_apply_intent(
        provider_payment_id="hosted_pi_1",
        status="paid",
        metadata_payment_id=str(payment.lago_id),
        attempt=payment.attempts,
    )
    body = api.get("/api/v1/customers/acme/payments").json()
    assert spec_errors("PaymentsPaginated", body, GAPS) == []
    [shown] = body["payments"]
    assert shown == shown | {
        "lago_id": str(payment.lago_id),
        "lago_customer_id": str(acme.lago_id),
        "external_customer_id": "acme",
        "invoice_ids": [str(row.invoice.lago_id)],
        "invoice_numbers": [row.invoice.number],
        "lago_payable_id": str(row.invoice.lago_id),
        "payable_type": "Invoice",
        "amount_cents": 5000,
        "amount_currency": "USD",
        "status": "succeeded",
        "payment_status": "succeeded",
        "provider_payment_id": "hosted_pi_1",
        "payment_provider_code": "hosted",
    }
    assert body["meta"]["total_count"] == 1
    same = api.get("/api/v1/customers/acme/payments", {"invoice_id": str(row.invoice.lago_id)})
    assert len(same.json()["payments"]) == 1
    other = api.get(
        "/api/v1/customers/acme/payments", {"invoice_id": "6f1c2a4e-0000-4000-8000-000000000000"}
    )
    assert other.json()["payments"] == []
    bad = api.get("/api/v1/customers/acme/payments", {"invoice_id": "nope"})
    assert (bad.status_code, bad.json()["payments"]) == (200, [])  # no such invoice: none


def test_unknown_customer(api):
    response = api.get("/api/v1/customers/nobody/payments")
    assert response.json() == {"status": 404, "error": "Not Found", "code": "customer_not_found"}
