"""lago-python-client: terminate a subscription → its invoice is listed, found, finalized and
downloadable as a PDF."""

from datetime import UTC, datetime

import httpx
import pytest
import time_machine
from lago_python_client.models import (
    BillableMetric,
    Charge,
    Customer,
    CustomerBillingConfiguration,
    Event,
    Plan,
    Subscription,
)

pytestmark = pytest.mark.live


@time_machine.travel(datetime(2024, 4, 16, 12, tzinfo=UTC))
def test_terminated_subscription_is_invoiced_finalized_and_downloadable(lago):
    metric = lago.billable_metrics.create(
        BillableMetric(
            name="Tokens", code="tokens", aggregation_type="sum_agg", field_name="tokens"
        )
    )
    lago.plans.create(
        Plan(
            name="Pro",
            code="pro",
            interval="monthly",
            amount_cents=3000,
            amount_currency="USD",
            charges=[
                Charge(
                    billable_metric_id=metric.lago_id,
                    charge_model="standard",
                    properties={"amount": "0.01"},
                )
            ],
        )
    )
    lago.customers.create(
        Customer(
            external_id="acme",
            currency="USD",
            billing_configuration=CustomerBillingConfiguration(invoice_grace_period=2),
        )
    )
    lago.subscriptions.create(
        Subscription(
            external_customer_id="acme",
            plan_code="pro",
            external_id="acme_pro",
            subscription_at="2024-04-01T00:00:00Z",
        )
    )
    lago.events.create(
        Event(
            transaction_id="t1",
            external_subscription_id="acme_pro",
            code="tokens",
            timestamp=1712880000,
            properties={"tokens": 700},
        )
    )
    lago.subscriptions.destroy("acme_pro")  # terminate: the partial period is billed at once
    page = lago.invoices.find_all({"external_customer_id": "acme"})
    [invoice] = page["invoices"]
    # Apr 1-16 = 16 of 30 days of $30 = $16.00, plus 700 tokens x $0.01 = $7.00
    assert (invoice.status, invoice.fees_amount_cents, invoice.total_amount_cents) == (
        "draft",
        2300,
        2300,
    )
    assert lago.invoices.find(invoice.lago_id).invoice_type == "subscription"
    finalized = lago.invoices.finalize(invoice.lago_id)
    assert finalized.status == "finalized" and finalized.number.startswith("INV-202404-")
    downloaded = lago.invoices.download(invoice.lago_id)
    pdf = httpx.get(downloaded.file_url)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
