"""Stripe: the client configured from settings (off when no key is set; any Stripe-compatible
server, localstripe in tests and demos, when STRIPE_API_BASE is a URL), and everything that
speaks Stripe's API or event format. Our rows are written by payments.services, not here."""

import json
import logging
import time

import stripe
from django.conf import settings

from payments.models import Payment, Refund
from payments.providers.base import (
    Charge,
    InvalidWebhook,
    MalformedEvent,
    ProviderDecline,
    ProviderError,
    RemotePayment,
)

logger = logging.getLogger(__name__)
TOLERANCE_SECONDS = 300  # Stripe's default, applied both ways (a timestamp from the future too)

# Stripe's tax id types for the countries whose VAT numbers we validate; others are not sent.
STRIPE_TAX_ID_TYPES = {"GB": "gb_vat", "CH": "ch_vat", "NO": "no_vat", "AU": "au_abn"}

INTENT_STATUS = {
    "succeeded": Payment.Status.SUCCEEDED,
    "processing": Payment.Status.PROCESSING,
    "requires_action": Payment.Status.REQUIRES_ACTION,
    "requires_confirmation": Payment.Status.PROCESSING,
    "requires_payment_method": Payment.Status.FAILED,
    "canceled": Payment.Status.FAILED,
}
REFUND_STATUS = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}


def stripe_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def stripe_client() -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base.rstrip("/")} if base else {},
        max_network_retries=2,
    ).v1


class StripeProvider:
    name, label = "stripe", "Stripe"

    def enabled(self) -> bool:
        return stripe_enabled()

    # --- customers ---------------------------------------------------------------------------

    def customer_create(self, customer) -> str:
        created = stripe_client().customers.create(
            params=_customer_params(customer),
            options={"idempotency_key": f"customer-{customer.lago_id}"},
        )
        return created.id

    def customer_update(self, provider_customer_id: str, customer) -> None:
        stripe_client().customers.update(provider_customer_id, params=_customer_params(customer))
        self.tax_id_sync(provider_customer_id, customer)

    def tax_id_sync(self, provider_customer_id: str, customer) -> None:
        """Keep exactly our tax identification number on the Stripe customer (shown on
        Stripe's receipts); a number Stripe refuses is logged, not fatal to collection."""
        kind = _tax_id_type(customer.country)
        value = customer.tax_identification_number.replace(" ", "")
        service = stripe_client().customers.tax_ids
        try:
            existing = service.list(provider_customer_id).data
            if any(t.value == value and t.type == kind for t in existing):
                return
            for tax_id in existing:
                service.delete(provider_customer_id, tax_id.id)
            if value and kind:
                service.create(provider_customer_id, params={"type": kind, "value": value})
        except stripe.InvalidRequestError as exc:
            logger.warning(
                "tax id not synced to Stripe",
                extra={"customer": customer.external_id, "error": str(exc)},
            )

    def default_payment_method(self, customer) -> str | None:
        """Stripe's invoice default (set by our setup page, Stripe's dashboard or the API),
        else the one we recorded, else the first one attached to the customer."""
        if not customer.provider_customer_id:
            return None
        remote = stripe_client().customers.retrieve(customer.provider_customer_id)
        settings_ = getattr(remote, "invoice_settings", None)
        method = getattr(settings_, "default_payment_method", None) if settings_ else None
        if method is not None and not isinstance(method, str):
            method = method.id
        return method or customer.provider_payment_method_id or _attached_method(customer) or None

    def setup_secret(self, customer, methods: list[str]) -> str:
        intent = stripe_client().setup_intents.create(
            params={
                "customer": customer.provider_customer_id,
                "payment_method_types": methods,
                "usage": "off_session",
            }
        )
        return intent.client_secret

    def set_default_payment_method(self, customer, method: str) -> None:
        stripe_client().customers.update(
            customer.provider_customer_id,
            params={"invoice_settings": {"default_payment_method": method}},
        )

    def detach_payment_method(self, customer, method: str) -> None:
        try:
            stripe_client().payment_methods.detach(method)
        except stripe.InvalidRequestError as exc:  # gone already, or never attached
            logger.warning("payment method not detached", extra={"error": str(exc)})

    # --- payments ----------------------------------------------------------------------------

    def charge(self, *, invoice, payment, amount_cents: int, method: str) -> Charge:
        """A PaymentIntent created and confirmed off-session, keyed by our attempt."""
        try:
            intent = stripe_client().payment_intents.create(
                params={
                    "amount": amount_cents,
                    "currency": invoice.currency.lower(),
                    "customer": invoice.customer.provider_customer_id,
                    "payment_method": method,
                    "confirm": True,
                    "off_session": True,
                    "metadata": _payment_metadata(invoice, payment),
                },
                options={"idempotency_key": payment.attempt_key()},
            )
        except stripe.CardError as exc:
            # Stripe names the declined PaymentIntent: its payment_failed webhook is ours.
            intent = getattr(exc.error, "payment_intent", None) if exc.error else None
            intent_id = intent if isinstance(intent, str) else getattr(intent, "id", "")
            code = exc.code or "card_error"
            raise ProviderDecline(code, str(exc.user_message), intent_id or "") from exc
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc
        return Charge(intent.id, intent.status, _charge_id(intent), _intent_error(intent))

    def payment_url(
        self, *, invoice, payment, amount_cents: int, success_url: str | None = None
    ) -> str:
        """A Stripe Checkout session for the amount due (Lago's payment_url); its
        PaymentIntent carries our payment id, so its webhooks settle this payment."""
        name = f"Invoice {invoice.number}"
        try:
            session = stripe_client().checkout.sessions.create(
                params={
                    "mode": "payment",
                    "customer": invoice.customer.provider_customer_id,
                    "line_items": [
                        {
                            "quantity": 1,
                            "price_data": {
                                "currency": invoice.currency.lower(),
                                "unit_amount": amount_cents,
                                "product_data": {"name": name},
                            },
                        }
                    ],
                    "payment_intent_data": {"metadata": _payment_metadata(invoice, payment)},
                    "success_url": success_url or settings.PUBLIC_BASE_URL,
                },
                options={"idempotency_key": f"payment-url-{payment.attempt_key()}-{amount_cents}"},
            )
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc
        return session.url

    def payment_status(self, status: str) -> str:
        return INTENT_STATUS.get(status, Payment.Status.PROCESSING)

    def refund(self, *, payment, refund, credit_note) -> Charge:
        try:
            remote = stripe_client().refunds.create(
                params={
                    "payment_intent": payment.provider_payment_id,
                    "amount": refund.amount_cents,
                    "metadata": {"credit_note_id": str(credit_note.lago_id)},
                },
                options={"idempotency_key": f"refund-{refund.lago_id}"},
            )
        except stripe.StripeError as exc:
            raise ProviderError(str(exc)) from exc
        return Charge(remote.id, remote.status)

    def refund_status(self, status: str) -> str:
        return REFUND_STATUS.get(status, Refund.Status.PENDING)

    def recent_payments(self):
        params = {"limit": 100}
        for intent in stripe_client().payment_intents.list(params=params).auto_paging_iter():
            yield RemotePayment(
                provider_payment_id=intent.id,
                created=intent.created,
                amount_cents=intent.amount,
                status=intent.status,
                ours=bool(_metadata(intent).get("payment_id")),
            )

    # --- webhooks ----------------------------------------------------------------------------

    def parse_webhook(self, *, payload: bytes, signature: str) -> dict:
        """The event as plain JSON, if Stripe signed this exact payload within
        TOLERANCE_SECONDS of now, either way; its envelope is checked (MalformedEvent)."""
        try:
            stripe.WebhookSignature.verify_header(
                payload, signature, settings.STRIPE_WEBHOOK_SECRET, TOLERANCE_SECONDS
            )
        except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError) as exc:
            raise InvalidWebhook(str(exc)) from exc
        timestamp = _signed_at(signature)
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise InvalidWebhook(f"Timestamp outside the tolerance zone ({timestamp})")
        return _envelope(payload)


def _customer_params(customer) -> dict:
    params = {
        "name": customer.display_name,
        "metadata": {"external_id": customer.external_id, "lago_id": str(customer.lago_id)},
    }
    if customer.email:
        params["email"] = customer.email.split(",")[0].strip()
    address = {
        "line1": customer.address_line1,
        "line2": customer.address_line2,
        "city": customer.city,
        "postal_code": customer.zipcode,
        "state": customer.state,
        "country": customer.country,
    }
    address = {k: v for k, v in address.items() if v}
    if address:
        params["address"] = address
    return params


def _tax_id_type(country: str) -> str | None:
    from taxes.vat import is_eu

    return "eu_vat" if is_eu(country) else STRIPE_TAX_ID_TYPES.get((country or "").upper())


def _attached_method(customer) -> str | None:
    """No default anywhere: the first card, else SEPA mandate, attached to the customer (as
    Lago does; covers a card saved through the setup page before its webhook arrived)."""
    for kind in ("card", "sepa_debit"):
        try:
            methods = stripe_client().payment_methods.list(
                params={"customer": customer.provider_customer_id, "type": kind, "limit": 1}
            )
        except stripe.InvalidRequestError:
            continue  # a type this account (or a Stripe-compatible server) does not offer
        if methods.data:
            return methods.data[0].id
    return None


def _payment_metadata(invoice, payment) -> dict:
    """What a PaymentIntent carries so that its webhooks find our payment and attempt."""
    return {
        "lago_invoice_id": str(invoice.lago_id),
        "invoice_number": invoice.number or "",
        "payment_id": str(payment.lago_id),
        "attempt": str(payment.attempts),
    }


def _charge_id(intent) -> str:
    charge = getattr(intent, "latest_charge", None)
    return charge if isinstance(charge, str) else getattr(charge, "id", "") or ""


def _intent_error(intent) -> str:
    error = getattr(intent, "last_payment_error", None)
    return getattr(error, "message", "") if error else ""


def _metadata(obj) -> dict:
    """A Stripe object's metadata as a plain dict (StripeObject is not a mapping)."""
    metadata = getattr(obj, "metadata", None)
    return metadata.to_dict() if metadata is not None else {}


def _signed_at(signature: str) -> int:
    """The `t=` of a header the Stripe library has just accepted."""
    for item in signature.split(","):
        key, _, value = item.partition("=")
        if key.strip() == "t":
            return int(value)
    raise InvalidWebhook("no timestamp")  # unreachable: verify_header needs one


def _envelope(payload: bytes) -> dict:
    """id, type, created and data.object as Stripe sends them, or MalformedEvent."""
    if b"\\u0000" in payload.lower():
        raise MalformedEvent("nul_character")  # PostgreSQL's jsonb refuses it
    try:
        event = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        raise MalformedEvent("invalid_json") from exc
    if not isinstance(event, dict):
        raise MalformedEvent("event_not_an_object")
    for key, size in (("id", 255), ("type", 128)):
        if not isinstance(event.get(key), str) or not 0 < len(event[key]) <= size:
            raise MalformedEvent(f"{key}_is_invalid")
    created = event.get("created")
    if isinstance(created, bool) or not isinstance(created, int) or not 0 < created < 2**33:
        raise MalformedEvent("created_is_invalid")
    data = event.get("data")
    if not isinstance(data, dict) or not isinstance(data.get("object"), dict):
        raise MalformedEvent("data_object_is_invalid")
    object_id = data["object"].get("id", "")
    if not isinstance(object_id, str) or len(object_id) > 255:
        raise MalformedEvent("object_id_is_invalid")
    return event
