"""lago-python-client against a live server: fees, a manual payment, its receipt, a lost
dispute and a payment request, parsed by the official client's models."""

from datetime import UTC, datetime

import pytest
import time_machine
from lago_python_client.models import BillableMetric, Charge, Customer, Plan, Subscription
from lago_python_client.models.payment import Payment
from lago_python_client.models.payment_request import PaymentRequest

from core.selectors import organization_get
from invoices.models import Invoice

pytestmark = pytest.mark.live


@time_machine.travel(datetime(2024, 4, 16, 12, tzinfo=UTC))
def test_fees_payments_receipts_and_a_request(lago):
    organization = organization_get()
    organization.issue_receipts_enabled = True
    organization.save()
    metric = lago.billable_metrics.create(
        BillableMetric(name="Seats", code="seats", aggregation_type="sum_agg", field_name="n")
    )
    charge = Charge(
        billable_metric_id=metric.lago_id, charge_model="standard", properties={"amount": "1"}
    )
    lago.plans.create(
        Plan(
            name="Pro",
            code="pro",
            interval="monthly",
            amount_cents=3000,
            amount_currency="USD",
            charges=[charge],
        )
    )
    lago.customers.create(Customer(external_id="acme", currency="USD", email="ap@acme.example"))
    lago.subscriptions.create(
        Subscription(
            external_customer_id="acme",
            plan_code="pro",
            external_id="acme_pro",
            subscription_at="2024-04-01T00:00:00Z",
        )
    )
    lago.subscriptions.destroy("acme_pro")  # Apr 1-16 = 16/30 of $30 = $16.00, finalized
    [invoice] = lago.invoices.find_all({"external_customer_id": "acme"})["invoices"]
    assert (invoice.status, invoice.total_amount_cents) == ("finalized", 1600)

    fees = lago.fees.find_all({"external_customer_id": "acme", "fee_type": "subscription"})["fees"]
    assert [fee.amount_cents for fee in fees] == [1600]
    assert lago.fees.find(fees[0].lago_id).lago_invoice_id == invoice.lago_id

    paid = lago.payments.create(
        Payment(invoice_id=invoice.lago_id, amount_cents=600, reference="wire")
    )
    assert (paid.amount_cents, paid.type, paid.payment_status) == (600, "manual", "succeeded")
    assert [p.lago_id for p in lago.payments.find_all()["payments"]] == [paid.lago_id]
    receipts = lago.payment_receipts.find_all()["payment_receipts"]
    assert [r.number for r in receipts] == ["INV-RCPT-000001"]

    Invoice.objects.filter(lago_id=invoice.lago_id).update(payment_overdue=True)
    request = lago.payment_requests.create(
        PaymentRequest(
            email="ap@acme.example", external_customer_id="acme", lago_invoice_ids=[invoice.lago_id]
        )
    )
    assert (request.amount_cents, request.payment_status) == (1000, "pending")

    disputed = lago.invoices.lose_dispute(invoice.lago_id)
    assert disputed.payment_dispute_lost_at is not None
