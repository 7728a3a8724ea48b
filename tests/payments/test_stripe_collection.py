"""Stripe through localstripe (a real HTTP server, not mocks): customers synced, invoices
collected with off-session PaymentIntents, declines retried on the dunning schedule then
overdue, 3-D Secure, refunds from credit notes, no double charge."""

from datetime import date, timedelta

import pytest
import time_machine

from customers.models import Customer
from customers.services import customer_upsert
from invoices.services.credit_notes import credit_note_create
from payments.models import Payment
from payments.providers.stripe import stripe_client
from payments.services import (
    customer_provider_sync,
    default_payment_method,
    invoice_collect,
    payment_retry_now,
)
from payments.tasks import retry_due
from tests.payments.helpers import DECLINES, THREE_D_SECURE, at, card, finalized_invoice, give_card

pytestmark = pytest.mark.django_db


def test_customer_is_created_at_stripe_once_and_kept_in_sync(stripe_customer):
    remote = stripe_client().customers.retrieve(stripe_customer.provider_customer_id)
    assert (remote.name, remote.email) == ("Acme", "ap@acme.example")
    assert customer_provider_sync(customer=stripe_customer) == stripe_customer.provider_customer_id
    customer_upsert(data={"external_id": "acme", "email": "billing@acme.example"})
    customer_provider_sync(customer=Customer.objects.get(pk=stripe_customer.pk))
    remote = stripe_client().customers.retrieve(stripe_customer.provider_customer_id)
    assert remote.email == "billing@acme.example"


def test_a_finalized_invoice_is_collected(stripe_customer):
    give_card(stripe_customer, "pm_card_visa")
    invoice = finalized_invoice()
    payment = invoice_collect(invoice=invoice)
    assert (payment.status, payment.amount_cents, payment.attempts) == ("succeeded", 4200, 1)
    intent = stripe_client().payment_intents.retrieve(payment.provider_payment_id)
    assert (intent.amount, intent.currency, intent.metadata["lago_invoice_id"]) == (
        4200,
        "usd",
        str(invoice.lago_id),
    )
    invoice.refresh_from_db()
    assert invoice.payment_status == "succeeded"


def test_collecting_twice_never_charges_twice(stripe_customer):
    give_card(stripe_customer, "pm_card_visa")
    invoice = finalized_invoice()
    invoice_collect(invoice=invoice)
    invoice_collect(invoice=invoice)
    Payment.objects.filter(invoice=invoice).update(status="processing")  # a crashed attempt
    invoice_collect(invoice=invoice)
    intents = stripe_client().payment_intents.list(params={"limit": 100}).data
    assert (
        len(
            [
                i
                for i in intents
                if i.metadata.to_dict().get("lago_invoice_id") == str(invoice.lago_id)
            ]
        )
        == 1
    )


def test_a_declining_card_is_retried_on_the_schedule_then_overdue(
    stripe_customer, mailoutbox, django_capture_on_commit_callbacks
):
    give_card(stripe_customer, card(DECLINES))
    invoice = finalized_invoice()
    first = at(2024, 5, 1, 1)
    with time_machine.travel(first, tick=False):
        payment = invoice_collect(invoice=invoice)
    assert (payment.status, payment.next_retry_at) == ("failed", first + timedelta(days=3))
    assert "card_declined" in payment.last_error
    invoice.refresh_from_db()
    assert invoice.payment_status == "failed"
    for day, expected_next in ((4, 5), (9, 7)):  # retries 3 then 5 days after each failure
        with time_machine.travel(at(2024, 5, day, 1, 1), tick=False):
            assert retry_due() == 1
        payment.refresh_from_db()
        assert payment.next_retry_at == at(2024, 5, day, 1, 1) + timedelta(days=expected_next)
    last = time_machine.travel(at(2024, 5, 16, 1, 2), tick=False)
    with last, django_capture_on_commit_callbacks(execute=True):
        retry_due()  # the last one
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.attempts, payment.next_retry_at, invoice.payment_overdue) == (4, None, True)
    assert [m.to for m in mailoutbox] == [["finance@seller.example"]]


def test_a_retry_with_a_new_card_succeeds(stripe_customer):
    give_card(stripe_customer, card(DECLINES))
    invoice = finalized_invoice()
    assert invoice_collect(invoice=invoice).status == "failed"
    give_card(stripe_customer, "pm_card_visa")  # the customer fixes the card at Stripe
    assert default_payment_method(stripe_customer) != ""
    payment = payment_retry_now(invoice=invoice)
    assert (payment.status, payment.attempts) == ("succeeded", 2)
    invoice.refresh_from_db()
    assert invoice.payment_status == "succeeded"


def test_three_d_secure_waits_for_the_customer(stripe_customer):
    give_card(stripe_customer, card(THREE_D_SECURE))
    payment = invoice_collect(invoice=finalized_invoice())
    assert payment.status == "requires_action"


def test_no_payment_method_fails_with_a_reason(stripe_customer):
    payment = invoice_collect(invoice=finalized_invoice())
    assert payment.status == "failed" and payment.last_error.startswith("no_payment_method")


def test_a_credit_note_refund_goes_to_stripe(stripe_customer):
    give_card(stripe_customer, "pm_card_visa")
    invoice = finalized_invoice()
    invoice_collect(invoice=invoice)
    invoice.refresh_from_db()
    fee = invoice.fees.get()
    from payments.services import credit_note_refund

    note = credit_note_create(
        data={
            "invoice_id": str(invoice.lago_id),
            "reason": "order_cancellation",
            "items": [{"fee_id": str(fee.lago_id), "amount_cents": 1000}],
            "credit_amount_cents": 0,
            "refund_amount_cents": 1000,
        }
    )
    refund = credit_note_refund(credit_note=note)
    note.refresh_from_db()
    assert (refund.status, note.refund_status) == ("succeeded", "succeeded")
    remote = stripe_client().refunds.retrieve(refund.provider_refund_id)
    assert remote.amount == 1000


def test_stripe_off_leaves_invoices_pending(settings):
    settings.STRIPE_SECRET_KEY = ""
    customer_upsert(
        data={
            "external_id": "acme",
            "currency": "USD",
            "billing_configuration": {"payment_provider": "stripe"},
        }
    )
    invoice = finalized_invoice()
    assert invoice_collect(invoice=invoice) is None
    assert invoice.payment_status == "pending"


def test_retry_payment_and_checkout_url_api(api, client, stripe_customer):
    give_card(stripe_customer, card(DECLINES))
    invoice = finalized_invoice()
    invoice_collect(invoice=invoice)
    give_card(stripe_customer, "pm_card_visa")
    body = api.post(f"/api/v1/invoices/{invoice.lago_id}/retry_payment").json()["invoice"]
    assert body["payment_status"] == "succeeded"
    url = api.post("/api/v1/customers/acme/checkout_url").json()["customer"]["checkout_url"]
    page = client.get(url.removeprefix("http://testserver"))
    assert page.status_code == 200 and "seti_" in page.content.decode()
    assert client.get("/billing/payment-method/forged-token").status_code == 404


def test_the_vat_number_is_kept_on_the_stripe_customer(stripe_on):
    customer, _ = customer_upsert(
        data={
            "external_id": "fr",
            "name": "Société",
            "country": "FR",
            "currency": "EUR",
            "tax_identification_number": "FR40303265045",
            "billing_configuration": {"payment_provider": "stripe", "sync_with_provider": True},
        }
    )
    customer_provider_sync(customer=customer)
    customer.refresh_from_db()
    tax_ids = stripe_client().customers.tax_ids.list(customer.provider_customer_id).data
    assert [(t.type, t.value) for t in tax_ids] == [("eu_vat", "FR40303265045")]
    customer_upsert(data={"external_id": "fr", "tax_identification_number": "FR23334175221"})
    customer_provider_sync(customer=Customer.objects.get(pk=customer.pk))
    tax_ids = stripe_client().customers.tax_ids.list(customer.provider_customer_id).data
    assert [t.value for t in tax_ids] == ["FR23334175221"]


def test_a_card_attached_without_being_made_default_is_charged(stripe_customer):
    method = card("4242424242424242")
    stripe_client().payment_methods.attach(
        method, params={"customer": stripe_customer.provider_customer_id}
    )
    assert default_payment_method(stripe_customer) == method
    assert invoice_collect(invoice=finalized_invoice()).status == "succeeded"


def test_a_euro_customer_may_add_a_sepa_mandate(client, stripe_on):
    from payments.links import setup_url

    customer, _ = customer_upsert(
        data={
            "external_id": "eu",
            "name": "Euro GmbH",
            "country": "DE",
            "currency": "EUR",
            "billing_configuration": {"payment_provider": "stripe"},
        }
    )
    page = client.get(setup_url(customer)).content.decode()
    assert "SEPA Direct Debit" in page and "authorise Demo AI Inc." in page
    intents = stripe_client().setup_intents.list(params={"limit": 10}).data
    assert intents[0].payment_method_types == ["card", "sepa_debit"]


def test_a_retry_charges_what_is_still_due_after_an_offset(stripe_customer):
    """A decline, then a credit note offsets $12.00 on the unpaid invoice: the retry charges
    $30.00 (4,200 - 1,200), not the invoice total; the portal and the receivables say the same."""
    from backoffice.dashboard import receivables
    from portal.selectors import amount_due_cents

    give_card(stripe_customer, card(DECLINES))
    invoice = finalized_invoice()
    assert invoice_collect(invoice=invoice).status == "failed"
    fee = invoice.fees.get()
    items = [{"fee_id": str(fee.lago_id), "amount_cents": 1200}]
    credit_note_create(
        data={"invoice_id": str(invoice.lago_id), "items": items, "offset_amount_cents": 1200}
    )
    assert amount_due_cents(invoice.customer) == {"USD": 3000}
    assert sum(receivables(date(2024, 6, 1), "USD").buckets.values()) == 3000
    give_card(stripe_customer, "pm_card_visa")
    payment = payment_retry_now(invoice=invoice)
    intent = stripe_client().payment_intents.retrieve(payment.provider_payment_id)
    assert (payment.status, payment.amount_cents, intent.amount) == ("succeeded", 3000, 3000)
