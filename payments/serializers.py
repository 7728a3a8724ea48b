"""Lago's payment and payment receipt objects (API, outgoing webhooks, personal-data export)."""

from core.api.formats import iso
from payments.models import Payment, PaymentReceipt

# Lago's normalized payment status (its enum has no "requires action": the payment is still
# being processed, waiting for the customer).
PAYMENT_STATUS = {Payment.Status.REQUIRES_ACTION: "processing"}


def _payable(payment: Payment) -> tuple[str, str, list]:
    """(lago_payable_id, payable_type, invoices paid)."""
    request = getattr(payment, "payment_request", None)
    if request is not None:
        return str(request.lago_id), "PaymentRequest", list(request.invoices.all())
    return str(payment.invoice.lago_id), "Invoice", [payment.invoice]


def payment_json(payment: Payment) -> dict:
    """Lago's PaymentObject (V1::PaymentSerializer)."""
    payable_id, payable_type, invoices = _payable(payment)
    customer = payment.customer
    manual = payment.kind == Payment.Kind.MANUAL
    return {
        "lago_id": str(payment.lago_id),
        "lago_customer_id": str(customer.lago_id),
        "external_customer_id": customer.external_id,
        "invoice_ids": [str(invoice.lago_id) for invoice in invoices],
        "invoice_numbers": [invoice.number for invoice in invoices if invoice.number],
        "lago_payable_id": payable_id,
        "payable_type": payable_type,
        "amount_cents": payment.amount_cents,
        "amount_currency": payment.currency,
        "status": payment.status,
        "payment_status": PAYMENT_STATUS.get(payment.status, payment.status),
        "type": payment.kind,
        "reference": payment.reference or None,
        "payment_provider_code": None if manual else payment.provider,
        "payment_provider_type": None if manual else payment.provider,
        "external_payment_id": payment.provider_payment_id or None,
        "provider_payment_id": payment.provider_payment_id or None,
        "provider_customer_id": None if manual else (customer.provider_customer_id or None),
        "next_action": {},
        "created_at": iso(payment.created_at),
    }


def payment_receipt_json(receipt: PaymentReceipt) -> dict:
    """Lago's PaymentReceiptObject, its payment included."""
    return {
        "lago_id": str(receipt.lago_id),
        "number": receipt.number,
        "created_at": iso(receipt.created_at),
        "payment": payment_json(receipt.payment),
    }


def payment_method_json(method) -> dict:
    """Lago's PaymentMethodObject (V1::PaymentMethodSerializer)."""
    from payments.providers import provider_named

    provider = provider_named(method.provider)
    return {
        "lago_id": str(method.lago_id),
        "is_default": method.is_default,
        "payment_provider_code": method.provider,
        "payment_provider_name": provider.label if provider is not None else None,
        "payment_provider_type": method.provider,
        "provider_method_id": method.provider_method_id,
        "created_at": iso(method.created_at),
    }


def payment_request_json(request) -> dict:
    """Lago's PaymentRequestObject: the customer and the invoices (without their fees)."""
    from customers.serializers import customer_json
    from invoices.serializers import invoice_json

    return {
        "lago_id": str(request.lago_id),
        "email": request.email,
        "amount_cents": request.amount_cents,
        "amount_currency": request.currency,
        "payment_status": request.payment_status,
        "created_at": iso(request.created_at),
        "customer": customer_json(request.customer),
        "invoices": [
            invoice_json(invoice, with_fees=False) for invoice in request.invoices.order_by("pk")
        ],
    }
