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
