"""Stripe's webhooks: verified with the Stripe library, recorded once per event id (a replay
does nothing), applied forward-only (events come late, twice or out of order)."""

import logging

import stripe
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.auditing import acting_as
from customers.models import Customer
from payments.models import Payment, StripeEvent
from payments.services import payment_apply_intent, refund_apply

logger = logging.getLogger(__name__)


class InvalidWebhook(Exception):
    """Bad signature, stale timestamp or unreadable body: answer 400."""


def stripe_event_verify(*, payload: bytes, signature: str):
    """The event, if Stripe signed this exact payload recently (tolerance 300 s)."""
    try:
        return stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise InvalidWebhook(str(exc)) from exc


def stripe_event_handle(*, event) -> str:
    """Record the event id once and apply it, atomically; a replay answers "duplicate"."""
    payload = event.to_dict()  # plain dicts all the way down
    with acting_as(f"stripe:{payload['id']}", "webhook"), transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(
                    event_id=payload["id"], event_type=payload["type"], payload=payload
                )
        except IntegrityError:
            return "duplicate"
        # In the same transaction as the record: if applying fails, neither is kept and
        # Stripe's redelivery (after our 500) applies it again.
        outcome = _dispatch(payload["type"], payload["data"]["object"])
        record.processed_at, record.outcome = timezone.now(), outcome[:255]
        record.save(update_fields=["processed_at", "outcome"])
    return outcome


def _dispatch(event_type: str, obj) -> str:
    handler = HANDLERS.get(event_type)
    if handler is None:
        return "ignored"
    return handler(obj)


def _intent(obj) -> str:
    metadata = obj.get("metadata") or {}
    error = obj.get("last_payment_error") or {}
    charge = obj.get("latest_charge")
    payment = payment_apply_intent(
        provider_payment_id=obj["id"],
        status=obj["status"],
        charge_id=charge if isinstance(charge, str) else "",
        error=error.get("message", "") if isinstance(error, dict) else "",
        metadata_payment_id=metadata.get("payment_id"),
        attempt=_attempt(metadata.get("attempt")),
    )
    return f"payment {payment.status}" if payment else "unknown payment"


def _attempt(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _intent_failed(obj) -> str:
    """payment_intent.payment_failed: the intent is back to requires_payment_method."""
    return _intent({**obj, "status": "requires_payment_method"})


def _requires_action(obj) -> str:
    return _intent({**obj, "status": "requires_action"})


def _charge_refunded(obj) -> str:
    refunds = (obj.get("refunds") or {}).get("data") or []
    for refund in refunds:
        refund_apply(provider_refund_id=refund["id"], status=refund.get("status", "succeeded"))
    return f"{len(refunds)} refund(s)"


def _dispute(obj, *, closed: bool) -> str:
    intent = obj.get("payment_intent")
    charge = obj.get("charge")
    payment = (
        Payment.objects.filter(provider_payment_id=intent).first()
        or Payment.objects.filter(provider_charge_id=charge).first()
    )
    if payment is None:
        return "unknown payment"
    fields = {"dispute_status": obj.get("status", "")}
    if not closed:
        fields["disputed_at"] = timezone.now()
    Payment.objects.filter(pk=payment.pk).update(**fields)
    if closed and obj.get("status") == "lost":
        _dispute_lost(payment.invoice)
    return f"dispute {obj.get('status')}"


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
    from payments.stripe_client import stripe_client

    customer = Customer.objects.filter(provider_customer_id=obj.get("customer")).first()
    method = obj.get("payment_method")
    if customer is None or not method:
        return "unknown customer"
    stripe_client().customers.update(
        customer.provider_customer_id,
        params={"invoice_settings": {"default_payment_method": method}},
    )
    Customer.objects.filter(pk=customer.pk).update(provider_payment_method_id=method)
    return "default payment method set"


def _customer_deleted(obj) -> str:
    count = Customer.objects.filter(provider_customer_id=obj.get("id")).update(
        provider_customer_id="", provider_payment_method_id=""
    )
    return f"{count} customer(s) unlinked"


HANDLERS = {
    "payment_intent.succeeded": _intent,
    "payment_intent.processing": _intent,
    "payment_intent.payment_failed": _intent_failed,
    "payment_intent.requires_action": _requires_action,
    "charge.refunded": _charge_refunded,
    "charge.refund.updated": lambda obj: str(
        refund_apply(provider_refund_id=obj["id"], status=obj.get("status", ""))
    ),
    "charge.dispute.created": lambda obj: _dispute(obj, closed=False),
    "charge.dispute.closed": lambda obj: _dispute(obj, closed=True),
    "setup_intent.succeeded": _setup_succeeded,
    "customer.deleted": _customer_deleted,
}
