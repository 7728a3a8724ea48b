"""Stripe's webhooks: verified by the Stripe provider (payments.providers.stripe), recorded
once per event id (a replay does nothing), applied in Stripe's order per object (events come
late, twice or out of order): an event older than one already recorded for the same payment
intent, charge, refund or dispute is recorded and not applied. A validly signed event of an
unexpected shape is refused (400) before anything is written; an unknown event type is
recorded and ignored (200)."""

import uuid
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.auditing import acting_as
from customers.models import Customer
from payments.models import Payment, StripeEvent
from payments.providers import provider_named
from payments.providers.base import InvalidWebhook, MalformedEvent
from payments.services import payment_apply_intent, refund_apply
from payments.services.methods import payment_method_record

__all__ = ["InvalidWebhook", "MalformedEvent", "stripe_event_handle", "stripe_event_verify"]

# Events of one object in the same second: a final state outranks a passing one, so that a
# `processing` stamped in the same second as the `payment_failed` that followed never wins.
RANKS = {
    "payment_intent.payment_failed": 1,
    "payment_intent.canceled": 1,
    "payment_intent.succeeded": 2,
    "charge.dispute.closed": 1,
}


def stripe_event_verify(*, payload: bytes, signature: str) -> dict:
    """The event, if Stripe signed it (the provider checks signature, clock and envelope)."""
    return provider_named("stripe").parse_webhook(payload=payload, signature=signature)


def stripe_event_handle(*, event: dict) -> str:
    """Record the event id once and apply it, atomically; a replay answers "duplicate", an
    event older than one recorded for the same object "stale"."""
    obj = event["data"]["object"]
    with acting_as(f"stripe:{event['id']}", "webhook"), transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(
                    event_id=event["id"],
                    event_type=event["type"],
                    payload=event,
                    object_id=obj.get("id", ""),
                    provider_created_at=datetime.fromtimestamp(event["created"], tz=UTC),
                    rank=RANKS.get(event["type"], 0),
                )
        except IntegrityError:
            return "duplicate"
        # In the same transaction as the record: if applying fails, neither is kept and
        # Stripe's redelivery (after our 500) applies it again.
        if _superseded(record):
            outcome = "stale"
        else:
            outcome = _dispatch(event["type"], obj, record.provider_created_at)
        record.processed_at, record.outcome = timezone.now(), outcome[:255]
        record.save(update_fields=["processed_at", "outcome"])
    return outcome


def _superseded(record: StripeEvent) -> bool:
    """A newer event about the same object is recorded already (Stripe's clock, then rank)."""
    if not record.object_id:
        return False
    same = StripeEvent.objects.filter(object_id=record.object_id).exclude(pk=record.pk)
    newer = same.filter(provider_created_at__gt=record.provider_created_at)
    tied = same.filter(provider_created_at=record.provider_created_at, rank__gt=record.rank)
    return newer.exists() or tied.exists()


def _text(obj: dict, key: str) -> str:
    """A string field the handler cannot do without."""
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise MalformedEvent(f"{key}_is_invalid")
    return value


def _mapping(obj: dict, key: str) -> dict:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def _dispatch(event_type: str, obj: dict, at: datetime) -> str:
    handler = HANDLERS.get(event_type)
    if handler is None:
        return "ignored"
    if event_type.startswith("payment_intent."):
        return handler(obj, at)
    return handler(obj)


def _intent(obj: dict, at: datetime) -> str:
    metadata = _mapping(obj, "metadata")
    charge = obj.get("latest_charge")
    message = _mapping(obj, "last_payment_error").get("message")
    payment_id = metadata.get("payment_id")
    payment = payment_apply_intent(
        provider_payment_id=_text(obj, "id"),
        status=_text(obj, "status"),
        charge_id=charge if isinstance(charge, str) else "",
        error=message if isinstance(message, str) else "",
        metadata_payment_id=payment_id if _is_uuid(payment_id) else None,
        attempt=_attempt(metadata.get("attempt")),
        at=at,
    )
    return f"payment {payment.status}" if payment else "unknown payment"


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return value is not None


def _attempt(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _intent_failed(obj: dict, at: datetime) -> str:
    """payment_intent.payment_failed: the intent is back to requires_payment_method."""
    return _intent({**obj, "status": "requires_payment_method"}, at)


def _requires_action(obj: dict, at: datetime) -> str:
    return _intent({**obj, "status": "requires_action"}, at)


def _charge_refunded(obj: dict) -> str:
    refunds = _mapping(obj, "refunds").get("data") or []
    if not isinstance(refunds, list) or not all(isinstance(r, dict) for r in refunds):
        raise MalformedEvent("refunds_is_invalid")
    for refund in refunds:
        status = refund.get("status")
        refund_apply(
            provider_refund_id=_text(refund, "id"),
            status=status if isinstance(status, str) else "succeeded",
        )
    return f"{len(refunds)} refund(s)"


def _refund_updated(obj: dict) -> str:
    status = obj.get("status")
    refund = refund_apply(
        provider_refund_id=_text(obj, "id"), status=status if isinstance(status, str) else ""
    )
    return str(refund)


def _dispute(obj: dict, *, closed: bool) -> str:
    intent, charge = _optional_text(obj, "payment_intent"), _optional_text(obj, "charge")
    payment = (
        Payment.objects.filter(provider_payment_id=intent).first()
        or Payment.objects.filter(provider_charge_id=charge).first()
    )
    if payment is None:
        return "unknown payment"
    status = _text(obj, "status")[:32]
    fields = {"dispute_status": status}
    if not closed:
        fields["disputed_at"] = timezone.now()
    Payment.objects.filter(pk=payment.pk).update(**fields)
    if closed and status == "lost":
        _dispute_lost(payment.invoice)
    return f"dispute {status}"


def _optional_text(obj: dict, key: str) -> str | None:
    """A string field or None (never "", which would match rows without that id)."""
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _dispute_lost(invoice) -> None:
    """The money went back to the customer: the invoice is marked, finance staff hear of it
    through the invoice.payment_dispute_lost webhook; what to do (credit note, write-off,
    collecting again) is their call."""
    from invoices.models import Invoice
    from invoices.services.lifecycle import notify

    Invoice.objects.filter(pk=invoice.pk).update(payment_dispute_lost_at=timezone.now())
    invoice.refresh_from_db()
    notify(invoice, "invoice.payment_dispute_lost")


def _setup_succeeded(obj) -> str:
    """A card or mandate added through our setup page: make it the default, at Stripe too."""
    customer_id = _optional_text(obj, "customer")
    customer = Customer.objects.filter(provider_customer_id=customer_id).first()
    method = _optional_text(obj, "payment_method")
    if customer is None or not method:
        return "unknown customer"
    provider_named("stripe").set_default_payment_method(customer, method)
    Customer.objects.filter(pk=customer.pk).update(provider_payment_method_id=method)
    payment_method_record(customer=customer, provider="stripe", provider_method_id=method)
    return "default payment method set"


def _customer_deleted(obj) -> str:
    count = Customer.objects.filter(provider_customer_id=_text(obj, "id")).update(
        provider_customer_id="", provider_payment_method_id=""
    )
    return f"{count} customer(s) unlinked"


HANDLERS = {
    "payment_intent.succeeded": _intent,
    "payment_intent.processing": _intent,
    "payment_intent.payment_failed": _intent_failed,
    "payment_intent.requires_action": _requires_action,
    "charge.refunded": _charge_refunded,
    "charge.refund.updated": _refund_updated,
    "charge.dispute.created": lambda obj: _dispute(obj, closed=False),
    "charge.dispute.closed": lambda obj: _dispute(obj, closed=True),
    "setup_intent.succeeded": _setup_succeeded,
    "customer.deleted": _customer_deleted,
}
