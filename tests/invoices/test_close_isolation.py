"""One subscription that cannot be invoiced fails alone, recorded and announced; the period
close bills everyone else, and bills it once the bad row is fixed."""

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from customers.models import Customer, Subscription
from customers.services import subscription_create
from invoices.models import BillingFailure, Invoice
from invoices.tasks import bill_subscription
from tests.factories import make_metric, make_plan, standard_charge
from usage.models import Event, UsageRollup
from usage.services import events_ingest
from webhooks.models import WebhookDelivery
from webhooks.services import webhook_endpoint_create

pytestmark = pytest.mark.django_db
START = datetime(2024, 3, 1, tzinfo=UTC)
CLOSE = "2024-04-01T00:05:00Z"
HUGE = Decimal("9e24")  # accepted before the range checks: 9e26 cents, beyond bigint


@pytest.fixture
def three_due():
    make_three_due()


def make_three_due():
    """Three subscriptions due on the same boundary; b's stored usage cannot be billed."""
    tokens = make_metric("tokens", field_name="tokens")
    make_plan("pro", 1000, charges=[standard_charge(tokens, "1")])
    webhook_endpoint_create(
        data={"webhook_url": "https://hooks.example/billing", "event_types": []}
    )
    with time_machine.travel(START, tick=False):
        for name in ("a", "b", "c"):
            subscription_create(
                data={"external_customer_id": name, "plan_code": "pro", "external_id": name}
            )
    events_ingest(
        raws=[
            {
                "transaction_id": f"{name}-1",
                "external_subscription_id": name,
                "code": "tokens",
                "timestamp": "2024-03-10T10:30:00Z",
                "properties": {"tokens": 5},
            }
            for name in ("a", "b", "c")
        ],
        now=datetime(2024, 3, 10, 11, tzinfo=UTC),
    )
    set_stored_value("b", HUGE)  # as a row written before this fix would be


def set_stored_value(external_id: str, value: Decimal) -> None:
    """The event row and its hourly rollup, as the database holds them."""
    Event.objects.filter(external_subscription_id=external_id).update(value=value)
    UsageRollup.objects.filter(external_subscription_id=external_id).update(
        value_sum=value, value_max=value
    )


def bill_due() -> str:
    out = StringIO()
    call_command("bill_due", "--now", CLOSE, stdout=out)
    return out.getvalue()


def invoiced() -> dict[str, int]:
    return {
        invoice.customer.external_id: invoice.fees_amount_cents
        for invoice in Invoice.objects.select_related("customer")
    }


def test_the_middle_subscription_fails_alone_recorded_and_webhooked(three_due):
    output = bill_due()
    # $10 base fee + 5 tokens x $1 for a and c; b is refused before any row is written.
    assert invoiced() == {"a": 1500, "c": 1500}
    assert "2 invoice(s) created" in output
    assert "1 subscription(s) could not be billed" in output
    failure = BillingFailure.objects.get()
    assert (failure.subscription.external_id, failure.code, failure.attempts) == (
        "b",
        "value_is_out_of_range",
        1,
    )
    assert failure.boundary == datetime(2024, 4, 1, tzinfo=UTC)
    assert failure.invoicing_reason == "subscription_periodic"
    assert "900000000000000000000000000 minor units" in failure.message
    assert failure.resolved_at is None
    [delivery] = WebhookDelivery.objects.filter(webhook_type="invoice.generation_failed")
    payload = delivery.payload
    assert payload["object_type"] == "billing_failure"
    assert {k: v for k, v in payload["billing_failure"].items() if k != "lago_subscription_id"} == {
        "external_subscription_id": "b",
        "external_customer_id": "b",
        "boundary": "2024-04-01T00:00:00Z",
        "invoicing_reason": "subscription_periodic",
        "error_code": "value_is_out_of_range",
        "error_message": failure.message,
        "attempts": 1,
        "failed_at": payload["billing_failure"]["failed_at"],
    }


def test_a_run_after_the_row_is_fixed_bills_it_once_and_resolves_the_failure(three_due):
    bill_due()
    bill_due()  # still broken: one more attempt, no second webhook
    failure = BillingFailure.objects.get()
    assert failure.attempts == 2
    assert WebhookDelivery.objects.filter(webhook_type="invoice.generation_failed").count() == 1
    set_stored_value("b", Decimal(7))
    assert "1 invoice(s) created" in bill_due()
    assert "0 invoice(s) created" in bill_due()
    assert invoiced() == {"a": 1500, "b": 1700, "c": 1500}
    failure.refresh_from_db()
    assert failure.resolved_at is not None


def test_the_beat_task_records_the_failure_instead_of_raising(three_due):
    b = Subscription.objects.get(external_id="b")
    with time_machine.travel(datetime(2024, 4, 1, 0, 5, tzinfo=UTC), tick=False):
        bill_subscription(b.pk)
    assert BillingFailure.objects.get().code == "value_is_out_of_range"
    assert not Invoice.objects.exists()


def test_the_admin_lists_open_billing_failures_with_their_reason(admin_client, three_due):
    bill_due()
    page = admin_client.get(reverse("admin:invoices_billingfailure_changelist") + "?state=open")
    assert page.status_code == 200
    text = page.content.decode()
    assert "value_is_out_of_range" in text and "900000000000000000000000000" in text


@pytest.mark.postgres
def test_on_postgresql_the_bigint_overflow_never_reaches_the_database(three_due):
    output = bill_due()
    assert invoiced() == {"a": 1500, "c": 1500}
    assert "1 subscription(s) could not be billed" in output
    assert BillingFailure.objects.get().code == "value_is_out_of_range"


def test_a_draft_whose_refresh_overflows_stays_a_draft_and_the_others_finalize(three_due):
    Customer.objects.update(invoice_grace_period=2)
    set_stored_value("b", Decimal(7))
    bill_due()  # three drafts, finalized after the grace period
    set_stored_value("b", HUGE)  # e.g. a late row written around the checks
    out = StringIO()
    call_command("bill_due", "--now", "2024-04-03T00:10:00Z", stdout=out)
    assert "2 draft(s) finalized" in out.getvalue()
    statuses = dict(Invoice.objects.values_list("customer__external_id", "status"))
    assert statuses == {"a": "finalized", "b": "draft", "c": "finalized"}
    failure = BillingFailure.objects.get()
    assert (failure.subscription.external_id, failure.code) == ("b", "value_is_out_of_range")
    assert failure.message.startswith("fee ")  # refused by the range check, before any write
