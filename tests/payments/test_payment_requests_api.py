"""POST/GET /payment_requests and GET /customers/{id}/payment_requests against localstripe:
overdue invoices gathered, charged at once, settled together."""

import pytest
import time_machine

from customers.services import subscription_create
from invoices.models import Invoice
from invoices.services import invoices_mark_overdue, subscription_bill_due
from payments.models import Payment, PaymentRequest
from tests.factories import make_plan
from tests.lago_spec import schema_errors
from tests.payments.helpers import DECLINES, at, card, give_card

pytestmark = pytest.mark.django_db

# The nested customer and invoices are other renderers' (customers.serializers,
# invoices.serializers): the spec wants values where they send null.
GAPS = (
    r"payment_requests?/(\*/)?customer(/.*)?: .*",
    r"payment_requests?/(\*/)?invoices/\*/.*: None is not of type .*",
    r"payment_requests?/(\*/)?invoices/\*: 'billing_entity_code' is a required property",
)


@pytest.fixture
def overdue(stripe_customer) -> list[Invoice]:
    """April's and May's invoices of acme ($42 each), finalized, unpaid, overdue."""
    make_plan("pro", 4200)
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "acme", "plan_code": "pro", "external_id": "s"}
        )
    invoices = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 6, 1, 0, 1))
    invoices_mark_overdue(today=at(2024, 7, 1).date())
    return [Invoice.objects.get(pk=invoice.pk) for invoice in invoices]


def request_body(invoices, **extra) -> dict:
    ids = [str(invoice.lago_id) for invoice in invoices]
    return {"payment_request": {"external_customer_id": "acme", "lago_invoice_ids": ids} | extra}


def test_a_paid_request_settles_every_invoice(api, stripe_customer, overdue):
    give_card(stripe_customer, card("4242424242424242"))
    response = api.post("/api/v1/payment_requests", request_body(overdue), format="json")
    assert response.status_code == 200, response.content
    body = response.json()["payment_request"]
    assert (body["amount_cents"], body["amount_currency"]) == (8400, "USD")
    assert body["payment_status"] == "succeeded" and body["email"] == "ap@acme.example"
    assert [i["lago_id"] for i in body["invoices"]] == [str(i.lago_id) for i in overdue]
    assert schema_errors("PaymentRequest", response.json(), GAPS) == []
    for invoice in overdue:
        invoice.refresh_from_db()
        assert (invoice.payment_status, invoice.payment_overdue) == ("succeeded", False)
        assert invoice.total_paid_amount_cents == 4200
    payment = Payment.objects.get(payment_request__lago_id=body["lago_id"])
    assert (payment.amount_cents, payment.status, payment.invoice) == (8400, "succeeded", None)
    listed = api.get("/api/v1/payments").json()["payments"]
    [paid] = [p for p in listed if p["payable_type"] == "PaymentRequest"]
    assert paid["lago_payable_id"] == body["lago_id"] and len(paid["invoice_ids"]) == 2


def test_a_declined_request_fails_and_the_invoices_stay_overdue(api, stripe_customer, overdue):
    give_card(stripe_customer, card(DECLINES))
    response = api.post("/api/v1/payment_requests", request_body(overdue), format="json")
    assert response.json()["payment_request"]["payment_status"] == "failed"
    payment = Payment.objects.get(payment_request__isnull=False)
    assert (payment.status, payment.next_retry_at) == ("failed", None)
    for invoice in overdue:
        invoice.refresh_from_db()
        assert (invoice.payment_status, invoice.payment_overdue) == ("pending", True)


def test_without_a_card_the_request_waits(api, stripe_customer, overdue):
    body = request_body(overdue[:1], email="billing@acme.example")
    created = api.post("/api/v1/payment_requests", body, format="json").json()["payment_request"]
    assert (created["payment_status"], created["amount_cents"]) == ("pending", 4200)
    assert created["email"] == "billing@acme.example"
    assert not Payment.objects.exists()
    found = api.get(f"/api/v1/payment_requests/{created['lago_id']}").json()
    assert found["payment_request"]["lago_id"] == created["lago_id"]
    page = api.get("/api/v1/payment_requests?external_customer_id=acme&payment_status=pending")
    assert page.json()["meta"]["total_count"] == 1
    assert schema_errors("PaymentRequestsPaginated", page.json(), GAPS) == []
    assert api.get("/api/v1/payment_requests?currency=EUR").json()["payment_requests"] == []
    mine = api.get("/api/v1/customers/acme/payment_requests?payment_status=pending").json()
    assert [r["lago_id"] for r in mine["payment_requests"]] == [created["lago_id"]]
    missing = api.get("/api/v1/payment_requests/00000000-0000-4000-8000-000000000000")
    assert missing.json()["code"] == "payment_request_not_found"


def test_refusals_write_nothing(api, stripe_customer, overdue):
    Invoice.objects.filter(pk=overdue[1].pk).update(payment_overdue=False)
    cases = [
        (request_body(overdue), 405, "invoices_not_overdue"),
        (request_body([]), 404, "invoice_not_found"),
        (
            {"payment_request": {"external_customer_id": "x", "lago_invoice_ids": []}},
            404,
            "customer_not_found",
        ),
    ]
    for body, status, code in cases:
        response = api.post("/api/v1/payment_requests", body, format="json")
        assert (response.status_code, response.json()["code"]) == (status, code)
    bad = {"payment_request": {"external_customer_id": "acme", "lago_invoice_ids": "all"}}
    response = api.post("/api/v1/payment_requests", bad, format="json")
    assert response.json()["error_details"] == {"lago_invoice_ids": ["invalid_format"]}
    assert api.post("/api/v1/payment_requests", {}, format="json").status_code == 400
    assert not PaymentRequest.objects.exists()
