"""Webhook services: endpoints (create, update, delete) and deliveries (send, deliver, retry).

A delivery is attempted in three steps so that no database transaction stays open during the
HTTP request (on SQLite, IMMEDIATE transactions would block every writer meanwhile):
claim (row lock, count the attempt, take a lease in next_attempt_at), POST, record the outcome
(row lock). A second run while an attempt is in flight sees the lease and does nothing; a run
after success does nothing either.
"""

import json
from datetime import timedelta

import requests
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.errors import RuleViolation, ValidationFailed
from core.locks import lock_one
from core.models import Organization
from core.selectors import organization_get
from core.validation import Errors, check_choice
from webhooks.keys import jwt_configured
from webhooks.models import HTTP_URL, WebhookDelivery, WebhookEndpoint
from webhooks.selectors import MAX_ENDPOINTS, endpoint_limit_reached
from webhooks.signing import endpoint_secret, signed_headers

KNOWN_TYPES = (
    "invoice.created",
    "invoice.one_off_created",
    "invoice.drafted",
    "invoice.deleted",
    "invoice.finalized",
    "invoice.generated",
    "invoice.voided",
    "invoice.paid_credit_added",
    "invoice.payment_status_updated",
    "invoice.payment_overdue",
    "invoice.payment_failure",
    "invoice.generation_failed",  # ours: a period close that could not invoice (not in Lago)
    "customer.created",
    "customer.updated",
    "subscription.started",
    "subscription.updated",
    "subscription.terminated",
    "subscription.canceled",
    "subscription.trial_ended",
    "subscription.termination_alert",
    "subscription.usage_threshold_reached",
    "event.error",
    "events.errors",
    "fee.created",
    "credit_note.created",
    "credit_note.generated",
    "wallet.created",
    "wallet.updated",
    "wallet.terminated",
    "wallet.depleted_ongoing_balance",
    "alert.triggered",
    "wallet_transaction.created",
    "wallet_transaction.updated",
    "payment.succeeded",
    "payment_receipt.created",
    "payment_request.created",
    "payment.requires_action",
    "invoice.payment_dispute_lost",
    "credit_note.provider_refund_failure",
    "feature.created",
    "feature.updated",
    "feature.deleted",
)
ALGORITHMS = WebhookEndpoint.SignatureAlgo.values  # "hmac", "jwt"
ENDPOINT_FIELDS = ("webhook_url", "signature_algo", "name", "event_types", "is_active")
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
LEASE_MARGIN = timedelta(seconds=60)  # an attempt in flight owns the row this long past timeout
ERROR_BODY_BYTES = 500  # how much of a failed response's body is kept in last_error

Status = WebhookDelivery.Status


# --- endpoints -------------------------------------------------------------------------------


def _url_error(url, *, instance: WebhookEndpoint | None) -> str | None:
    if url in (None, ""):
        return "value_is_mandatory"
    if not isinstance(url, str):
        return "invalid_format"
    if len(url) > 1024:
        return "value_is_too_long"
    try:
        HTTP_URL(url)
    except DjangoValidationError:
        return "invalid_format"
    others = WebhookEndpoint.objects.filter(webhook_url=url)
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    return "value_already_exist" if others.exists() else None


def _event_types_error(value) -> str | None:
    if not isinstance(value, list):
        return "value_is_invalid"
    valid = all(isinstance(item, str) and item in KNOWN_TYPES for item in value)
    return None if valid else "value_is_invalid"


def webhook_endpoint_errors(data: dict, *, instance: WebhookEndpoint | None = None) -> Errors:
    """Rules of an endpoint's fields; on update only the fields present are checked."""
    errors = Errors()
    if instance is None or "webhook_url" in data:
        errors.add("webhook_url", _url_error(data.get("webhook_url"), instance=instance))
    if "signature_algo" in data:
        error = check_choice(data["signature_algo"], ALGORITHMS)
        if error is None and data["signature_algo"] == "jwt" and not jwt_configured():
            error = "jwt_key_not_configured"  # production without LAGO_RSA_PRIVATE_KEY
        errors.add("signature_algo", error)
    if "event_types" in data:
        errors.add("event_types", _event_types_error(data["event_types"]))
    if "name" in data and not isinstance(data["name"], str):
        errors.add("name", "invalid_format")
    elif len(data.get("name") or "") > 255:
        errors.add("name", "value_is_too_long")
    if "is_active" in data and not isinstance(data["is_active"], bool):
        errors.add("is_active", "value_is_invalid")
    return errors


def _endpoint_fields(data: dict) -> dict:
    """The known fields that were sent; null means absent (Lago clients send nulls)."""
    return {key: data[key] for key in ENDPOINT_FIELDS if data.get(key) is not None}


def _lock_organization() -> None:
    """Serialise endpoint creation so two concurrent creates cannot pass the limit."""
    Organization.objects.select_for_update().filter(pk=organization_get().pk).first()


def webhook_endpoint_create(*, data: dict) -> WebhookEndpoint:
    """Validate and create an endpoint, at most MAX_ENDPOINTS of them (Lago's limit)."""
    fields = _endpoint_fields(data)
    with transaction.atomic():
        _lock_organization()
        if errors := webhook_endpoint_errors(fields):
            raise ValidationFailed(errors)
        if endpoint_limit_reached():
            raise RuleViolation(
                "too_many_endpoints", f"At most {MAX_ENDPOINTS} webhook endpoints are allowed."
            )
        return WebhookEndpoint.objects.create(**fields)


def webhook_endpoint_update(*, endpoint: WebhookEndpoint, data: dict) -> WebhookEndpoint:
    """Change the fields sent (a partial update, like Lago's PUT)."""
    fields = _endpoint_fields(data)
    with transaction.atomic():
        endpoint = lock_one(WebhookEndpoint, endpoint.pk)
        if errors := webhook_endpoint_errors(fields, instance=endpoint):
            raise ValidationFailed(errors)
        for key, value in fields.items():
            setattr(endpoint, key, value)
        endpoint.save()
        return endpoint


def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Delete the endpoint and its delivery log (as Lago does); returns the deleted object."""
    with transaction.atomic():
        endpoint = lock_one(WebhookEndpoint, endpoint.pk)
        endpoint.delete()  # keeps the in-memory fields (lago_id) for the response
        return endpoint


# --- sending ---------------------------------------------------------------------------------


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The bytes POSTed and signed: canonical JSON, identical for every attempt and database
    (PostgreSQL's jsonb does not keep key order, so keys are sorted)."""
    return json.dumps(
        delivery.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def _json_safe(value):
    """Dates, decimals and UUIDs as the strings JSON will carry."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def _enqueue(delivery_id: int) -> None:
    from webhooks.tasks import deliver_webhook  # tasks import services

    deliver_webhook.delay(delivery_id)


def _enqueue_after_commit(delivery_id: int) -> None:
    """Nothing is sent for a rolled-back transaction; a lost enqueue is caught up by beat."""
    transaction.on_commit(lambda: _enqueue(delivery_id), robust=True)


def webhook_send(*, webhook_type: str, object_type: str, data: dict) -> list[WebhookDelivery]:
    """Record one delivery per subscribed active endpoint; each is sent once the caller's
    transaction commits."""
    if webhook_type not in KNOWN_TYPES:
        raise ValueError(f"unknown webhook type {webhook_type!r}: add it to KNOWN_TYPES")
    payload = _json_safe(
        {"webhook_type": webhook_type, "object_type": object_type, object_type: data}
    )
    deliveries = []
    with transaction.atomic():
        for endpoint in WebhookEndpoint.objects.filter(is_active=True).order_by("id"):
            if not endpoint.wants(webhook_type):
                continue
            delivery = WebhookDelivery.objects.create(
                endpoint=endpoint,
                webhook_type=webhook_type,
                object_type=object_type,
                payload=payload,
            )
            _enqueue_after_commit(delivery.pk)
            deliveries.append(delivery)
    return deliveries


# --- delivering ------------------------------------------------------------------------------


def _max_attempts() -> int:
    return getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 5)


def _timeout() -> float:
    return getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10)


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 30 s after the first failure, doubling, at most 1 h."""
    return min(BACKOFF_FIRST * 2 ** (max(attempts, 1) - 1), BACKOFF_CAP)


def _is_due(delivery: WebhookDelivery, now) -> bool:
    if delivery.status not in (Status.PENDING, Status.RETRYING):
        return False
    return delivery.next_attempt_at is None or delivery.next_attempt_at <= now


def _give_up(delivery: WebhookDelivery, reason: str) -> None:
    delivery.status, delivery.next_attempt_at = Status.FAILED, None
    delivery.last_error = reason
    delivery.save(update_fields=["status", "next_attempt_at", "last_error", "updated_at"])


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Lock the row and start an attempt: None when there is nothing to send now."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None or not _is_due(delivery, now):
            return None
        if not delivery.endpoint.is_active:
            _give_up(delivery, "endpoint is inactive")
            return None
        if delivery.attempts >= _max_attempts():  # attempts lost with their worker
            _give_up(delivery, delivery.last_error or "maximum attempts reached")
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + timedelta(seconds=_timeout()) + LEASE_MARGIN
        delivery.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
        return delivery


def _post(delivery: WebhookDelivery) -> tuple[int | None, str]:
    """POST the signed body: (HTTP status or None, error text or "")."""
    body = delivery_body(delivery)
    endpoint = delivery.endpoint
    headers = signed_headers(
        secret=endpoint_secret(endpoint),
        body=body,
        unique_key=str(delivery.lago_id),
        algorithm=endpoint.signature_algo,
    )
    url = delivery.endpoint.webhook_url
    try:
        with requests.post(
            url, data=body, headers=headers, timeout=_timeout(), allow_redirects=False, stream=True
        ) as response:
            if 200 <= response.status_code < 300:
                return response.status_code, ""
            excerpt = next(response.iter_content(ERROR_BODY_BYTES), b"")[:ERROR_BODY_BYTES]
            text = excerpt.decode("utf-8", errors="replace")
            return response.status_code, f"HTTP {response.status_code}: {text}".strip()
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:1000]


def _record(claimed: WebhookDelivery, code: int | None, error: str) -> WebhookDelivery:
    """Store the outcome: succeeded, retrying after a backoff, or failed for good."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=claimed.pk).first()
        if delivery is None:  # the endpoint was deleted meanwhile
            return claimed
        delivery.last_response_code, delivery.last_error = code, error
        if code is not None and 200 <= code < 300:
            delivery.status, delivery.next_attempt_at = Status.SUCCEEDED, None
            delivery.delivered_at = now
        elif delivery.attempts < _max_attempts():
            delivery.status = Status.RETRYING
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        else:
            delivery.status, delivery.next_attempt_at = Status.FAILED, None
        delivery.save()
        return delivery


def webhook_deliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Make one attempt if the delivery is due; safe to run twice (a success is never resent)."""
    claimed = _claim(delivery.pk)
    if claimed is None:
        return WebhookDelivery.objects.filter(pk=delivery.pk).first() or delivery
    code, error = _post(claimed)
    return _record(claimed, code, error)


def webhook_retry(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Start over with a full set of attempts (admin's manual retry); a success is not resent."""
    with transaction.atomic():
        delivery = lock_one(WebhookDelivery, delivery.pk)
        if delivery.status == Status.SUCCEEDED:
            raise RuleViolation("webhook_already_succeeded", "This webhook was delivered.")
        delivery.status, delivery.attempts, delivery.next_attempt_at = Status.PENDING, 0, None
        delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
        _enqueue_after_commit(delivery.pk)
        return delivery
