"""Lago's payment object, for the outgoing webhooks and the personal-data export."""

from core.api.formats import iso
from payments.models import Payment


def payment_json(payment: Payment) -> dict:
    """Lago's payment object in webhooks."""
    return {
        "lago_id": str(payment.lago_id),
        "lago_payable_id": str(payment.invoice.lago_id),
        "payable_type": "Invoice",
        "amount_cents": payment.amount_cents,
        "amount_currency": payment.currency,
        "status": payment.status,
        "payment_status": payment.status,
        "type": "provider",
        "provider_payment_id": payment.provider_payment_id,
        "payment_provider_type": payment.provider,
        "external_customer_id": payment.customer.external_id,
        "created_at": iso(payment.created_at),
    }


def payment_api_json(payment: Payment) -> dict:
    """Lago's PaymentObject for the API lists: the webhook object plus the invoice and
    provider details (`next_action` is empty: 3-D Secure is completed on the provider's page,
    not through the API)."""
    invoice, customer = payment.invoice, payment.customer
    return payment_json(payment) | {
        "lago_customer_id": str(customer.lago_id),
        "invoice_ids": [str(invoice.lago_id)],
        "invoice_numbers": [invoice.number] if invoice.number else [],
        "payment_status": invoice.payment_status,
        "reference": "",
        "payment_provider_code": payment.provider,
        "external_payment_id": payment.provider_payment_id or None,
        "provider_payment_id": payment.provider_payment_id or None,
        "provider_customer_id": customer.provider_customer_id or "",
        "next_action": {},
    }
