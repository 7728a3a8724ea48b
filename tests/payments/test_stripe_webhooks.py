"""POST /webhooks/stripe with payloads signed exactly as Stripe signs them: valid, bad signature,
stale, replayed, out of order; each handled event type moves our rows forward only."""

import time

import pytest

from customers.models import Customer
from invoices.services.credit_notes import credit_note_create
from payments.models import Payment, Refund, StripeEvent
from payments.providers.stripe import stripe_client
from payments.services import invoice_collect
from tests.payments.helpers import (
    DECLINES,
    card,
    finalized_invoice,
    give_card,
)
from tests.stripe_fake import event, sign

pytestmark = pytest.mark.django_db


def post(client, payload: bytes, signature: str | None = None):
    return client.post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload) if signature is None else signature,
    )


def intent_event(event_id: str, event_type: str, payment: Payment, status: str, **extra) -> bytes:
    obj = {
        "id": payment.provider_payment_id or "pi_unknown",
        "object": "payment_intent",
        "status": status,
        "amount": payment.amount_cents,
        "metadata": {"payment_id": str(payment.lago_id), "attempt": str(payment.attempts)},
        **extra,
    }
    return event(event_id, event_type, obj)


@pytest.fixture
def failed_payment(stripe_customer):
    give_card(stripe_customer, card(DECLINES))
    payment = invoice_collect(invoice=finalized_invoice())
    assert payment.status == "failed"
    return payment


def test_a_valid_event_is_applied_and_recorded(client, failed_payment):
    payload = intent_event("evt_1", "payment_intent.succeeded", failed_payment, "succeeded")
    response = post(client, payload)
    assert response.status_code == 200
    assert response.json()["outcome"] == "payment succeeded"
    failed_payment.refresh_from_db()
    failed_payment.invoice.refresh_from_db()
    assert (failed_payment.status, failed_payment.invoice.payment_status) == (
        "succeeded",
        "succeeded",
    )
    record = StripeEvent.objects.get(event_id="evt_1")
    assert (record.event_type, record.outcome) == ("payment_intent.succeeded", "payment succeeded")


def test_a_bad_signature_is_refused_and_nothing_recorded(client, failed_payment):
    payload = intent_event("evt_1", "payment_intent.succeeded", failed_payment, "succeeded")
    response = post(client, payload, sign(payload, secret="whsec_someone_else"))
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_signature"
    assert post(client, payload, "").status_code == 400
    tampered = payload.replace(b'"succeeded"', b'"succeeded" ', 1)
    assert post(client, tampered, sign(payload)).status_code == 400
    assert not StripeEvent.objects.exists()
    failed_payment.refresh_from_db()
    assert failed_payment.status == "failed"


def test_a_stale_timestamp_is_refused(client, failed_payment):
    payload = intent_event("evt_1", "payment_intent.succeeded", failed_payment, "succeeded")
    stale = sign(payload, timestamp=int(time.time()) - 301)
    assert post(client, payload, stale).status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_replayed_event_has_no_effect(client, failed_payment):
    payload = intent_event("evt_1", "payment_intent.payment_failed", failed_payment, "failed")
    first = post(client, payload)
    attempts, next_retry = failed_payment.attempts, failed_payment.next_retry_at
    again = post(client, payload)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["outcome"] == "duplicate"
    failed_payment.refresh_from_db()
    assert (failed_payment.attempts, failed_payment.next_retry_at) == (attempts, next_retry)
    assert StripeEvent.objects.count() == 1


def test_out_of_order_a_late_failure_never_undoes_a_success(client, failed_payment):
    succeeded = intent_event("evt_2", "payment_intent.succeeded", failed_payment, "succeeded")
    failed = intent_event(
        "evt_1",
        "payment_intent.payment_failed",
        failed_payment,
        "requires_payment_method",
        last_payment_error={"message": "Your card was declined."},
    )
    post(client, succeeded)
    assert post(client, failed).status_code == 200
    failed_payment.refresh_from_db()
    failed_payment.invoice.refresh_from_db()
    assert failed_payment.status == "succeeded"
    assert failed_payment.invoice.payment_status == "succeeded"


def test_an_event_about_an_older_attempt_is_ignored(client, failed_payment):
    old = intent_event("evt_old", "payment_intent.succeeded", failed_payment, "succeeded")
    Payment.objects.filter(pk=failed_payment.pk).update(attempts=2, status="processing")
    assert post(client, old).json()["outcome"] == "payment processing"
    failed_payment.refresh_from_db()
    assert failed_payment.status == "processing"


def test_requires_action_waits_for_the_customer(client, failed_payment):
    Payment.objects.filter(pk=failed_payment.pk).update(status="processing")
    failed_payment.refresh_from_db()
    payload = intent_event(
        "evt_1", "payment_intent.requires_action", failed_payment, "requires_action"
    )
    post(client, payload)
    failed_payment.refresh_from_db()
    assert failed_payment.status == "requires_action"


def test_unknown_event_types_are_recorded_and_ignored(client, stripe_on):
    payload = event("evt_x", "balance.available", {"id": "bal", "object": "balance"})
    assert post(client, payload).json()["outcome"] == "ignored"


def test_charge_refunded_settles_the_credit_note_refund(client, stripe_customer):
    give_card(stripe_customer, "pm_card_visa")
    invoice = finalized_invoice()
    payment = invoice_collect(invoice=invoice)
    note = credit_note_create(
        data={
            "invoice_id": str(invoice.lago_id),
            "reason": "order_change",
            "items": [{"fee_id": str(invoice.fees.get().lago_id), "amount_cents": 500}],
            "credit_amount_cents": 0,
            "refund_amount_cents": 500,
        }
    )
    refund = Refund.objects.create(
        credit_note=note, payment=payment, amount_cents=500, provider_refund_id="re_1"
    )
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": payment.provider_payment_id,
        "refunds": {"object": "list", "data": [{"id": "re_1", "status": "succeeded"}]},
    }
    response = post(client, event("evt_r", "charge.refunded", charge))
    assert response.json()["outcome"] == "1 refund(s)"
    refund.refresh_from_db()
    note.refresh_from_db()
    assert (refund.status, note.refund_status) == ("succeeded", "succeeded")
    failed = event("evt_r2", "charge.refund.updated", {"id": "re_1", "status": "failed"})
    post(client, failed)
    refund.refresh_from_db()
    assert refund.status == "succeeded"  # forward only


def test_disputes_are_recorded_on_the_payment(client, stripe_customer):
    give_card(stripe_customer, "pm_card_visa")
    payment = invoice_collect(invoice=finalized_invoice())
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "status": "needs_response",
        "payment_intent": payment.provider_payment_id,
        "charge": "ch_x",
    }
    post(client, event("evt_d1", "charge.dispute.created", dispute))
    payment.refresh_from_db()
    assert payment.dispute_status == "needs_response" and payment.disputed_at is not None
    post(client, event("evt_d2", "charge.dispute.closed", {**dispute, "status": "won"}))
    payment.refresh_from_db()
    assert payment.dispute_status == "won" and payment.status == "succeeded"


def test_setup_intent_succeeded_makes_the_card_the_default(client, stripe_customer):
    method = card("4242424242424242")
    stripe_client().payment_methods.attach(
        method, params={"customer": stripe_customer.provider_customer_id}
    )
    setup = {
        "id": "seti_1",
        "object": "setup_intent",
        "status": "succeeded",
        "customer": stripe_customer.provider_customer_id,
        "payment_method": method,
    }
    assert post(client, event("evt_s", "setup_intent.succeeded", setup)).status_code == 200
    stripe_customer.refresh_from_db()
    assert stripe_customer.provider_payment_method_id == method
    remote = stripe_client().customers.retrieve(stripe_customer.provider_customer_id)
    assert remote.invoice_settings.default_payment_method == method


def test_customer_deleted_at_stripe_unlinks_ours(client, stripe_customer):
    deleted = {"id": stripe_customer.provider_customer_id, "object": "customer", "deleted": True}
    post(client, event("evt_c", "customer.deleted", deleted))
    assert Customer.objects.get(pk=stripe_customer.pk).provider_customer_id == ""


@pytest.fixture
def subscriber(db):
    from webhooks.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(webhook_url="https://hooks.example/lago")


def sent(webhook_type: str) -> list[dict]:
    from webhooks.models import WebhookDelivery

    rows = WebhookDelivery.objects.filter(webhook_type=webhook_type).order_by("id")
    return [row.payload for row in rows]


def test_payment_webhooks_go_out_like_lagos(client, subscriber, failed_payment):
    [failure] = sent("invoice.payment_failure")
    assert failure["object_type"] == "payment_provider_invoice_payment_error"
    error = failure["payment_provider_invoice_payment_error"]
    assert error["lago_invoice_id"] == str(failed_payment.invoice.lago_id)
    assert error["provider_error"]["error_code"] == "card_declined"
    post(client, intent_event("evt_1", "payment_intent.succeeded", failed_payment, "succeeded"))
    [success] = sent("payment.succeeded")
    assert success["payment"]["lago_payable_id"] == str(failed_payment.invoice.lago_id)
    [status] = sent("invoice.payment_status_updated")[-1:]
    assert status["invoice"]["payment_status"] == "succeeded"


def test_a_lost_dispute_marks_the_invoice(client, subscriber, stripe_customer):
    give_card(stripe_customer, "pm_card_visa")
    payment = invoice_collect(invoice=finalized_invoice())
    dispute = {
        "id": "dp_1",
        "object": "dispute",
        "status": "lost",
        "payment_intent": payment.provider_payment_id,
        "charge": "ch_x",
    }
    post(client, event("evt_d", "charge.dispute.closed", dispute))
    payment.invoice.refresh_from_db()
    assert payment.invoice.payment_dispute_lost_at is not None
    [lost] = sent("invoice.payment_dispute_lost")
    assert lost["invoice"]["payment_dispute_lost_at"] is not None
    from core.errors import RuleViolation
    from invoices.services.lifecycle import invoice_void

    with pytest.raises(RuleViolation) as error:
        invoice_void(invoice=payment.invoice, generate_credit_note=True)
    assert error.value.code == "invoice_payment_dispute_lost"
