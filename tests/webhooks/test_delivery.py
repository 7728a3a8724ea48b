"""Sending and delivering webhooks to a real HTTP receiver: signatures, retries, idempotency."""

import json
import socket
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import transaction

from webhooks.models import WebhookDelivery
from webhooks.services import (
    delivery_body,
    webhook_deliver,
    webhook_endpoint_create,
    webhook_send,
)
from webhooks.signing import endpoint_secret, verify
from webhooks.tasks import deliver_webhook, retry_due_webhooks

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 3, 10, 12, tzinfo=UTC)
Status = WebhookDelivery.Status
INVOICE = {"lago_id": "inv-1", "total_amount_cents": 1200, "issuing_date": date(2024, 3, 1)}


class Boom(Exception):
    pass


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """send(type): webhook_send in a committed transaction (on_commit callbacks executed)."""

    def run(webhook_type: str = "invoice.finalized", data: dict | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            return webhook_send(
                webhook_type=webhook_type, object_type="invoice", data=data or INVOICE
            )

    return run


def test_send_delivers_a_body_the_receiver_verifies(receiver, endpoint, send):
    [delivery] = send()
    [hit] = receiver.hits
    assert verify(endpoint_secret(endpoint), hit.body, hit.headers["x-lago-signature"])
    assert hit.headers["x-lago-signature-algorithm"] == "hmac"
    assert hit.headers["x-lago-unique-key"] == str(delivery.lago_id)
    assert hit.headers["content-type"] == "application/json"
    assert json.loads(hit.body) == {
        "webhook_type": "invoice.finalized",
        "object_type": "invoice",
        "invoice": {"lago_id": "inv-1", "total_amount_cents": 1200, "issuing_date": "2024-03-01"},
    }
    delivery.refresh_from_db()
    assert hit.body == delivery_body(delivery)
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        Status.SUCCEEDED,
        1,
        200,
    )
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None


def test_signature_fails_for_another_secret_or_a_changed_body(receiver, endpoint, send):
    send()
    [hit] = receiver.hits
    secret = endpoint_secret(endpoint)
    assert not verify("another-secret", hit.body, hit.headers["x-lago-signature"])
    assert not verify(secret, hit.body + b" ", hit.headers["x-lago-signature"])


def test_event_types_filter_endpoints(receiver, make_endpoint, send):
    make_endpoint("/all")
    make_endpoint("/voided-only", event_types=["invoice.voided"])
    make_endpoint("/both", event_types=["invoice.voided", "invoice.finalized"])
    make_endpoint("/inactive", is_active=False)
    send("invoice.finalized")
    assert sorted(hit.path for hit in receiver.hits) == ["/all", "/both"]


def test_no_endpoint_no_delivery(receiver, send, db):
    assert send() == []
    assert receiver.hits == []


def test_unknown_type_is_a_programming_error(endpoint):
    with pytest.raises(ValueError, match="KNOWN_TYPES"):
        webhook_send(webhook_type="invoice.exploded", object_type="invoice", data={})


def test_rolled_back_transaction_sends_nothing(
    receiver, endpoint, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        webhook_send(webhook_type="invoice.finalized", object_type="invoice", data=INVOICE)
        raise Boom
    assert callbacks == []
    assert receiver.hits == []
    assert not WebhookDelivery.objects.exists()


def test_failure_retries_when_due_with_the_same_body_and_key(receiver, endpoint, send):
    receiver.status = 500
    with time_machine.travel(T0, tick=False):
        [delivery] = send()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        Status.RETRYING,
        1,
        500,
    )
    assert delivery.last_error == "HTTP 500: receiver says no"
    assert delivery.next_attempt_at == T0 + timedelta(seconds=30)

    with time_machine.travel(T0 + timedelta(seconds=29), tick=False):
        retry_due_webhooks.delay()
    assert len(receiver.hits) == 1  # not due yet

    receiver.status = 204
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        retry_due_webhooks.delay()
    first, second = receiver.hits
    assert second.body == first.body
    assert second.headers["x-lago-unique-key"] == first.headers["x-lago-unique-key"]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        Status.SUCCEEDED,
        2,
        204,
    )
    assert delivery.last_error == ""


def test_max_attempts_then_failed_with_doubling_backoff(receiver, endpoint, send, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.status = 503
    with time_machine.travel(T0, tick=False):
        [delivery] = send()
    now = T0
    for wait in (30, 60):
        delivery.refresh_from_db()
        assert delivery.status == Status.RETRYING
        assert delivery.next_attempt_at == now + timedelta(seconds=wait)
        now = delivery.next_attempt_at
        with time_machine.travel(now, tick=False):
            retry_due_webhooks.delay()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        Status.FAILED,
        3,
        None,
    )
    with time_machine.travel(now + timedelta(days=1), tick=False):
        retry_due_webhooks.delay()
        deliver_webhook.delay(delivery.pk)
    assert len(receiver.hits) == 3


def test_network_error_is_retried(db, django_capture_on_commit_callbacks):
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhook_endpoint_create(data={"webhook_url": f"http://127.0.0.1:{port}/hooks"})
    with django_capture_on_commit_callbacks(execute=True):
        [delivery] = webhook_send(webhook_type="events.errors", object_type="events", data={})
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_response_code) == (
        Status.RETRYING,
        1,
        None,
    )
    assert "ConnectionError" in delivery.last_error


def test_deliver_twice_after_success_does_not_resend(receiver, endpoint, send):
    [delivery] = send()
    deliver_webhook.delay(delivery.pk)
    again = webhook_deliver(delivery=delivery)
    assert len(receiver.hits) == 1
    assert (again.status, again.attempts) == (Status.SUCCEEDED, 1)


def test_a_lost_enqueue_is_caught_up_by_beat(receiver, endpoint):
    with time_machine.travel(T0, tick=False):  # on_commit never runs: the enqueue is lost
        [delivery] = webhook_send(webhook_type="invoice.created", object_type="invoice", data={})
    with time_machine.travel(T0 + timedelta(minutes=4), tick=False):
        retry_due_webhooks.delay()
    assert receiver.hits == []
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        retry_due_webhooks.delay()
    assert len(receiver.hits) == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.SUCCEEDED


def test_an_attempt_in_flight_is_not_doubled(receiver, endpoint):
    with time_machine.travel(T0, tick=False):
        [delivery] = webhook_send(webhook_type="invoice.created", object_type="invoice", data={})
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=1,
            next_attempt_at=T0 + timedelta(seconds=70),  # another worker's lease
        )
        deliver_webhook.delay(delivery.pk)
    assert receiver.hits == []
    with time_machine.travel(T0 + timedelta(seconds=70), tick=False):  # that worker died
        retry_due_webhooks.delay()
    assert len(receiver.hits) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SUCCEEDED, 2)


def test_inactive_endpoint_fails_without_a_request(receiver, endpoint):
    [delivery] = webhook_send(webhook_type="invoice.created", object_type="invoice", data={})
    endpoint.is_active = False
    endpoint.save()
    delivery = webhook_deliver(delivery=delivery)
    assert (delivery.status, delivery.last_error) == (Status.FAILED, "endpoint is inactive")
    assert receiver.hits == []
