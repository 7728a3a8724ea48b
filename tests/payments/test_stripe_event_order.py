"""Hostile and out-of-order Stripe webhooks through POST /webhooks/stripe, signed as Stripe signs
them: Stripe's own `created` orders the events of one object (a late, older `processing` never
undoes a `payment_failed`), the signature's timestamp is checked both ways, a validly signed
event of an unexpected shape answers 400 with nothing written, and retry_payment either makes a
new attempt or says why not (405), never a silent 200."""

import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from payments.models import Payment, StripeEvent
from payments.services import invoice_collect, payments_retry_due
from tests.payments.helpers import DECLINES, card, finalized_invoice, give_card
from tests.stripe_fake import sign

pytestmark = pytest.mark.django_db


def post(client, payload: bytes, signature: str | None = None):
    return client.post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload) if signature is None else signature,
    )


def intent_event(event_id: str, event_type: str, payment: Payment, status: str, created: int):
    obj = {
        "id": payment.provider_payment_id,
        "object": "payment_intent",
        "status": status,
        "amount": payment.amount_cents,
        "metadata": {"payment_id": str(payment.lago_id), "attempt": str(payment.attempts)},
        "last_payment_error": {"message": "Your card was declined."},
    }
    body = {"id": event_id, "object": "event", "type": event_type, "created": created}
    return json.dumps({**body, "data": {"object": obj}}).encode()


@pytest.fixture
def failed_payment(stripe_customer):
    """A declined first attempt, its PaymentIntent id known (as Stripe's card error names
    it), dated now to the second."""
    give_card(stripe_customer, card(DECLINES))
    payment = invoice_collect(invoice=finalized_invoice())
    assert (payment.status, payment.attempts) == ("failed", 1)
    if not payment.provider_payment_id:  # localstripe names no intent in its card error
        Payment.objects.filter(pk=payment.pk).update(provider_payment_id="pi_declined")
        payment.refresh_from_db()
    return payment


PASSING_STATES = [
    ("payment_intent.processing", "processing"),
    ("payment_intent.requires_action", "requires_action"),
]


def _assert_failed_and_due_for_retry(payment: Payment) -> None:
    payment.refresh_from_db()
    payment.invoice.refresh_from_db()
    assert (payment.status, payment.invoice.payment_status) == ("failed", "failed")
    assert payment.next_retry_at is not None
    later = payment.next_retry_at + timedelta(seconds=1)
    assert payments_retry_due(now=later) == [payment.invoice_id]


@pytest.mark.parametrize(("event_type", "status"), PASSING_STATES)
def test_an_older_passing_state_arriving_after_the_failure_is_recorded_not_applied(
    client, failed_payment, event_type, status
):
    now = int(time.time())
    failed = intent_event(
        "evt_f",
        "payment_intent.payment_failed",
        failed_payment,
        "requires_payment_method",
        now + 10,
    )
    older = intent_event("evt_p", event_type, failed_payment, status, now + 5)
    assert post(client, failed).json()["outcome"] == "payment failed"
    response = post(client, older)
    assert (response.status_code, response.json()["outcome"]) == (200, "stale")
    _assert_failed_and_due_for_retry(failed_payment)
    assert StripeEvent.objects.get(event_id="evt_p").outcome == "stale"  # recorded once


@pytest.mark.parametrize(("event_type", "status"), PASSING_STATES)
def test_the_same_events_in_stripes_order_end_failed_too(
    client, failed_payment, event_type, status
):
    now = int(time.time())
    passing = intent_event("evt_p", event_type, failed_payment, status, now + 5)
    failed = intent_event(
        "evt_f",
        "payment_intent.payment_failed",
        failed_payment,
        "requires_payment_method",
        now + 10,
    )
    assert post(client, passing).json()["outcome"] == f"payment {status}"
    assert post(client, failed).json()["outcome"] == "payment failed"
    _assert_failed_and_due_for_retry(failed_payment)


def test_a_passing_state_stamped_in_the_same_second_as_the_failure_loses(client, failed_payment):
    now = int(time.time()) + 10
    failed = intent_event(
        "evt_f", "payment_intent.payment_failed", failed_payment, "requires_payment_method", now
    )
    same_second = intent_event(
        "evt_p", "payment_intent.processing", failed_payment, "processing", now
    )
    post(client, failed)
    assert post(client, same_second).json()["outcome"] == "stale"
    _assert_failed_and_due_for_retry(failed_payment)


def test_a_passing_state_older_than_our_synchronous_decline_is_not_applied(client, failed_payment):
    """No webhook yet: the decline we got from Stripe's answer is dated when we got it."""
    before = int(failed_payment.provider_status_at.timestamp()) - 2
    older = intent_event("evt_p", "payment_intent.processing", failed_payment, "processing", before)
    assert post(client, older).json()["outcome"] == "payment failed"
    _assert_failed_and_due_for_retry(failed_payment)


def test_a_newer_passing_state_is_applied(client, failed_payment):
    newer = intent_event(
        "evt_p", "payment_intent.processing", failed_payment, "processing", int(time.time()) + 5
    )
    assert post(client, newer).json()["outcome"] == "payment processing"
    failed_payment.refresh_from_db()
    assert failed_payment.status == "processing"


def test_a_late_older_refund_update_does_not_undo_a_newer_one(client, failed_payment):
    """Per object: charge.refund.updated about one refund, older after newer, is stale."""
    now = int(time.time())

    def refund_event(event_id: str, status: str, created: int) -> bytes:
        obj = {"id": "re_1", "object": "refund", "status": status}
        body = {"id": event_id, "type": "charge.refund.updated", "created": created}
        return json.dumps({**body, "data": {"object": obj}}).encode()

    post(client, refund_event("evt_new", "failed", now))
    assert post(client, refund_event("evt_old", "pending", now - 60)).json()["outcome"] == "stale"
    assert StripeEvent.objects.get(event_id="evt_old").object_id == "re_1"


# --- retry_payment ----------------------------------------------------------------------------


def test_retry_payment_makes_a_new_attempt_after_the_late_events(api, client, failed_payment):
    now = int(time.time())
    failed = intent_event(
        "evt_f",
        "payment_intent.payment_failed",
        failed_payment,
        "requires_payment_method",
        now + 10,
    )
    post(client, failed)
    post(
        client,
        intent_event("evt_p", "payment_intent.processing", failed_payment, "processing", now),
    )
    response = api.post(f"/api/v1/invoices/{failed_payment.invoice.lago_id}/retry_payment")
    assert response.status_code == 200
    failed_payment.refresh_from_db()
    assert (failed_payment.attempts, failed_payment.status) == (2, "failed")  # declined again


def test_retry_payment_while_stripe_handles_the_payment_answers_405_with_the_reason(
    api, client, failed_payment
):
    newer = intent_event(
        "evt_p", "payment_intent.processing", failed_payment, "processing", int(time.time()) + 5
    )
    post(client, newer)
    response = api.post(f"/api/v1/invoices/{failed_payment.invoice.lago_id}/retry_payment")
    assert (response.status_code, response.json()) == (
        405,
        {
            "status": 405,
            "error": "Method Not Allowed",
            "code": "payment_processor_is_currently_handling_payment",
        },
    )
    failed_payment.refresh_from_db()
    assert (failed_payment.attempts, failed_payment.status) == (1, "processing")


def test_retry_payment_for_a_customer_paying_by_transfer_answers_405(api, stripe_on):
    from customers.services import customer_upsert

    customer_upsert(data={"external_id": "acme", "name": "Acme", "currency": "USD"})
    invoice = finalized_invoice()
    response = api.post(f"/api/v1/invoices/{invoice.lago_id}/retry_payment")
    assert (response.status_code, response.json()["code"]) == (
        405,
        "customer_must_have_payment_provider",
    )
    assert not Payment.objects.exists()


# --- signatures -------------------------------------------------------------------------------


def _event_bytes(event_id: str = "evt_1") -> bytes:
    obj = {"id": "bal_1", "object": "balance"}
    body = {"id": event_id, "type": "balance.available", "created": int(time.time())}
    return json.dumps({**body, "data": {"object": obj}}).encode()


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(-301, False), (-300, True), (0, True), (300, True), (301, False), (3600, False)],
)
def test_the_signature_timestamp_is_within_300_seconds_either_way(
    client, stripe_on, offset, accepted
):
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False):
        payload = _event_bytes()
        response = post(client, payload, sign(payload, timestamp=int(time.time()) + offset))
    if accepted:
        assert (response.status_code, response.json()["outcome"]) == (200, "ignored")
        assert StripeEvent.objects.count() == 1
    else:
        assert (response.status_code, response.json()["error"]) == (400, "invalid_signature")
        assert "tolerance" in response.json()["detail"]
        assert not StripeEvent.objects.exists()


# --- shapes -----------------------------------------------------------------------------------


def _raw(body) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def _valid() -> dict:
    return {
        "id": "evt_1",
        "type": "payment_intent.succeeded",
        "created": int(time.time()),
        "data": {"object": {"id": "pi_1", "status": "succeeded"}},
    }


MALFORMED = {
    "a JSON array": ([_valid()], "event_not_an_object"),
    "a JSON string": ("evt_1", "event_not_an_object"),
    "a number": (42, "event_not_an_object"),
    "not JSON": (b"{not json", "invalid_json"),
    "no id": ({k: v for k, v in _valid().items() if k != "id"}, "id_is_invalid"),
    "an id that is a dict": ({**_valid(), "id": {"a": 1}}, "id_is_invalid"),
    "an id of 300 characters": ({**_valid(), "id": "e" * 300}, "id_is_invalid"),
    "no type": ({k: v for k, v in _valid().items() if k != "type"}, "type_is_invalid"),
    "no created": ({k: v for k, v in _valid().items() if k != "created"}, "created_is_invalid"),
    "created as a string": ({**_valid(), "created": "yesterday"}, "created_is_invalid"),
    "created far out": ({**_valid(), "created": 10**30}, "created_is_invalid"),
    "no data": ({k: v for k, v in _valid().items() if k != "data"}, "data_object_is_invalid"),
    "data a list": ({**_valid(), "data": [1, 2]}, "data_object_is_invalid"),
    "data.object a list": ({**_valid(), "data": {"object": [1]}}, "data_object_is_invalid"),
    "data.object a string": ({**_valid(), "data": {"object": "pi_1"}}, "data_object_is_invalid"),
    "object id a list": ({**_valid(), "data": {"object": {"id": []}}}, "object_id_is_invalid"),
    "intent without status": (
        {**_valid(), "data": {"object": {"id": "pi_1"}}},
        "status_is_invalid",
    ),
    "intent with a nested status": (
        {**_valid(), "data": {"object": {"id": "pi_1", "status": {"x": [{"y": None}]}}}},
        "status_is_invalid",
    ),
    "refunds that are not a list": (
        {
            **_valid(),
            "type": "charge.refunded",
            "data": {"object": {"id": "ch_1", "refunds": {"data": "re_1"}}},
        },
        "refunds_is_invalid",
    ),
    "a refund without id": (
        {
            **_valid(),
            "type": "charge.refunded",
            "data": {"object": {"id": "ch_1", "refunds": {"data": [{"status": "succeeded"}]}}},
        },
        "id_is_invalid",
    ),
    "a dispute with a status that is a list": (
        {
            **_valid(),
            "type": "charge.dispute.created",
            "data": {"object": {"id": "dp_1", "payment_intent": "pi_1", "status": ["lost"]}},
        },
        "status_is_invalid",
    ),
    "a NUL character": ({**_valid(), "id": "evt_\u0000"}, "nul_character"),
    "nesting 100000 deep": (b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "invalid_json"),
}


@pytest.mark.parametrize("body", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_signed_event_of_an_unexpected_shape_answers_400_and_writes_nothing(
    client, failed_payment, body
):
    payload, reason = body
    Payment.objects.filter(pk=failed_payment.pk).update(provider_payment_id="pi_1")
    response = post(client, _raw(payload))
    assert (response.status_code, response.json()) == (
        400,
        {"error": "malformed_event", "detail": reason},
    )
    assert not StripeEvent.objects.exists()
    failed_payment.refresh_from_db()
    assert failed_payment.status == "failed"


def test_an_unknown_event_type_of_a_valid_shape_is_recorded_and_ignored(client, stripe_on):
    payload = _event_bytes("evt_unknown")
    assert post(client, payload).json() == {"received": True, "outcome": "ignored"}
    assert post(client, payload).json() == {"received": True, "outcome": "duplicate"}
    assert StripeEvent.objects.get().event_type == "balance.available"


def test_the_signature_is_checked_before_the_shape(client, stripe_on):
    payload = b"[1, 2, 3]"
    mac = hmac.new(b"whsec_other", b"%d.%s" % (int(time.time()), payload), hashlib.sha256)
    response = post(client, payload, f"t={int(time.time())},v1={mac.hexdigest()}")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_signature")
