"""POST/GET /payments (manual payments), GET /customers/{id}/payments, GET /payment_receipts."""

from datetime import UTC, datetime

import pytest
import time_machine

from core.selectors import organization_get
from customers.services import customer_upsert
from invoices.models import Invoice
from payments.models import Payment, PaymentReceipt
from tests.lago_spec import schema_errors
from tests.payments.helpers import finalized_invoice
from tests.payments.test_provider_seam import customer_paying_through, in_memory_provider  # noqa: F401

pytestmark = pytest.mark.django_db

# A manual payment has no provider: Lago sends null where the spec wants a string.
GAPS = (
    r"(payments?/(\*/)?|payment_receipts?/(\*/)?payment/)"
    r"(payment_provider_code|payment_provider_type|provider_customer_id|reference): "
    r"None is not .*",
)


@pytest.fixture
def invoice() -> Invoice:
    customer_upsert(data={"external_id": "acme", "currency": "USD"})
    return finalized_invoice(4200)


def pay(api, invoice, amount, **extra):
    body = {"invoice_id": str(invoice.lago_id), "amount_cents": amount, "reference": "wire 1"}
    return api.post("/api/v1/payments", {"payment": body | extra}, format="json")


def test_partial_then_full_payment_settles_the_invoice(api, invoice):
    with time_machine.travel(datetime(2024, 5, 3, tzinfo=UTC), tick=False):
        first = pay(api, invoice, 1200)
    assert first.status_code == 200, first.content
    body = first.json()["payment"]
    assert body["amount_cents"] == 1200 and body["amount_currency"] == "USD"
    assert (body["type"], body["payment_status"], body["reference"]) == (
        "manual",
        "succeeded",
        "wire 1",
    )
    assert body["invoice_ids"] == [str(invoice.lago_id)] and body["payable_type"] == "Invoice"
    assert body["invoice_numbers"] == [invoice.number]
    assert body["created_at"] == "2024-05-03T00:00:00Z"
    assert schema_errors("Payment", first.json(), GAPS) == []
    found = api.get(f"/api/v1/invoices/{invoice.lago_id}").json()["invoice"]
    assert (found["total_due_amount_cents"], found["payment_status"]) == (3000, "pending")

    with time_machine.travel(datetime(2024, 5, 4, tzinfo=UTC), tick=False):
        second = pay(api, invoice, 3000, paid_at="2024-05-02")
    assert second.json()["payment"]["created_at"] == "2024-05-02T00:00:00Z"
    invoice.refresh_from_db()
    assert invoice.payment_status == "succeeded" and invoice.total_paid_amount_cents == 4200
    assert invoice.payment_status_changed_at == datetime(2024, 5, 4, tzinfo=UTC)
    found = api.get(f"/api/v1/invoices/{invoice.lago_id}").json()["invoice"]
    assert (found["total_due_amount_cents"], found["payment_status"]) == (0, "succeeded")
    again = pay(api, invoice, 1)
    assert again.json()["error_details"] == {"amount_cents": ["value_is_out_of_range"]}
    assert PaymentReceipt.objects.count() == 0  # receipts are off by default


def test_a_partly_paid_invoice_is_not_voided(api, invoice):
    pay(api, invoice, 200)
    response = api.post(f"/api/v1/invoices/{invoice.lago_id}/void")
    assert (response.status_code, response.json()["code"]) == (422, "invoice_partially_paid")
    invoice.refresh_from_db()
    assert invoice.status == "finalized"


def test_a_wallet_top_up_is_paid_in_full(api, invoice):
    Invoice.objects.filter(pk=invoice.pk).update(invoice_type="credit")
    response = pay(api, invoice, 100)
    assert response.json()["error_details"] == {"amount_cents": ["invalid_amount"]}
    assert not Payment.objects.exists()


def test_more_than_the_amount_due_is_refused(api, invoice):
    response = pay(api, invoice, 4201)
    assert response.status_code == 422
    assert response.json()["error_details"] == {"amount_cents": ["value_is_out_of_range"]}
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("change", "status", "details"),
    [
        ({"invoice_id": None}, 422, {"invoice_id": ["value_is_mandatory"]}),
        ({"amount_cents": 0}, 422, {"amount_cents": ["invalid_value"]}),
        ({"amount_cents": "100"}, 422, {"amount_cents": ["invalid_value"]}),
        ({"amount_cents": 10.5}, 422, {"amount_cents": ["invalid_value"]}),
        ({"paid_at": "yesterday"}, 422, {"paid_at": ["invalid_date"]}),
        ({"reference": ""}, 422, {"reference": ["value_is_mandatory"]}),
        ({"reference": "x" * 41}, 422, {"reference": ["value_is_too_long"]}),
        ({"invoice_id": "00000000-0000-4000-8000-000000000000"}, 404, None),
    ],
)
def test_bad_input_writes_nothing(api, invoice, change, status, details):
    body = {"invoice_id": str(invoice.lago_id), "amount_cents": 100, "reference": "r"} | change
    body = {key: value for key, value in body.items() if value is not None}
    response = api.post("/api/v1/payments", {"payment": body}, format="json")
    assert response.status_code == status
    if details:
        assert response.json()["error_details"] == details
    assert not Payment.objects.exists()
    invoice.refresh_from_db()
    assert invoice.total_paid_amount_cents == 0


def test_a_draft_takes_no_manual_payment(api, invoice):
    Invoice.objects.filter(pk=invoice.pk).update(status="draft")
    response = pay(api, invoice, 100)
    assert response.status_code == 403
    assert not Payment.objects.exists()


def test_lists_filters_and_find(api, invoice):
    other = finalized_other_invoice()
    paid = pay(api, invoice, 100).json()["payment"]
    pay(api, other, 50)
    everything = api.get("/api/v1/payments").json()
    assert everything["meta"]["total_count"] == 2
    assert schema_errors("PaymentsPaginated", everything, GAPS) == []
    mine = api.get("/api/v1/payments?external_customer_id=acme").json()["payments"]
    assert [p["lago_id"] for p in mine] == [paid["lago_id"]]
    by_invoice = api.get(f"/api/v1/payments?invoice_id={invoice.lago_id}").json()["payments"]
    assert [p["amount_cents"] for p in by_invoice] == [100]
    assert api.get("/api/v1/payments?invoice_id=nope").json()["payments"] == []
    customer = api.get("/api/v1/customers/acme/payments").json()
    assert [p["amount_cents"] for p in customer["payments"]] == [100]
    assert customer["meta"]["total_count"] == 1
    assert schema_errors("PaymentsPaginated", customer, GAPS) == []
    assert api.get("/api/v1/customers/nobody/payments").status_code == 404
    one = api.get(f"/api/v1/payments/{paid['lago_id']}").json()
    assert one["payment"]["amount_cents"] == 100
    missing = api.get("/api/v1/payments/00000000-0000-4000-8000-000000000000")
    assert (missing.status_code, missing.json()["code"]) == (404, "payment_not_found")


def finalized_other_invoice() -> Invoice:
    from customers.services import subscription_create
    from invoices.services import subscription_bill_due
    from tests.payments.helpers import at

    customer_upsert(data={"external_id": "other", "currency": "USD"})
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "other", "plan_code": "pro", "external_id": "s2"}
        )
    [bill] = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    return bill


def enable_receipts() -> None:
    organization = organization_get()
    organization.issue_receipts_enabled = True
    organization.save()


def test_receipts_are_numbered_once_per_succeeded_payment(api, invoice):
    enable_receipts()
    first = pay(api, invoice, 1000).json()["payment"]
    pay(api, invoice, 3200)
    receipts = api.get("/api/v1/payment_receipts").json()
    assert [r["number"] for r in receipts["payment_receipts"]] == [
        "INV-RCPT-000002",
        "INV-RCPT-000001",
    ]
    assert receipts["payment_receipts"][1]["payment"]["lago_id"] == first["lago_id"]
    assert schema_errors("PaymentReceiptsPaginated", receipts, GAPS) == []
    receipt = PaymentReceipt.objects.get(payment__lago_id=first["lago_id"])
    one = api.get(f"/api/v1/payment_receipts/{receipt.lago_id}").json()
    assert one["payment_receipt"]["number"] == "INV-RCPT-000001"
    assert schema_errors("PaymentReceipt", one, GAPS) == []
    filtered = api.get(f"/api/v1/payment_receipts?invoice_id={invoice.lago_id}").json()
    assert filtered["meta"]["total_count"] == 2
    assert api.get("/api/v1/payment_receipts/nope").json()["code"] == "payment_receipt_not_found"


def test_a_provider_payment_gets_its_receipt_too(
    api,
    in_memory_provider,  # noqa: F811 (the fixture imported above)
    django_capture_on_commit_callbacks,
):
    enable_receipts()
    customer_paying_through("inmemory")
    with django_capture_on_commit_callbacks(execute=True):
        invoice = finalized_invoice(4200)
    receipt = PaymentReceipt.objects.get()
    assert receipt.payment.invoice == invoice and receipt.number == "INV-RCPT-000001"
    body = api.get("/api/v1/payments").json()
    [payment] = body["payments"]
    assert (payment["type"], payment["payment_provider_type"]) == ("provider", "inmemory")


def test_paid_by_hand_ends_the_providers_retries(api, invoice):
    failed = Payment.objects.create(
        invoice=invoice,
        customer=invoice.customer,
        amount_cents=4200,
        currency="USD",
        status="failed",
        attempts=1,
        next_retry_at=datetime(2024, 5, 4, tzinfo=UTC),
    )
    pay(api, invoice, 4200)
    failed.refresh_from_db()
    assert failed.next_retry_at is None
