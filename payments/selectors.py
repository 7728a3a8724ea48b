"""Reads of payments and receipts for the API (Lago's filters)."""

from core.errors import NotFound
from core.validation import is_uuid
from payments.models import Payment, PaymentReceipt, PaymentRequest


def payments_visible():
    return Payment.objects.select_related("customer", "invoice", "payment_request").order_by(
        "-created_at", "-id"
    )


def payments_search(*, external_customer_id: str = "", invoice_id: str = ""):
    """Lago's GET /payments filters; an invoice id that is no UUID names no payment."""
    rows = payments_visible()
    if external_customer_id:
        rows = rows.filter(customer__external_id=external_customer_id)
    if invoice_id:
        rows = rows.filter(invoice__lago_id=invoice_id) if is_uuid(invoice_id) else rows.none()
    return rows


def payment_get(lago_id) -> Payment:
    payment = payments_visible().filter(lago_id=lago_id).first() if is_uuid(lago_id) else None
    if payment is None:
        raise NotFound("payment")
    return payment


def receipts_search(*, invoice_id: str = ""):
    rows = PaymentReceipt.objects.select_related(
        "payment__customer", "payment__invoice", "payment__payment_request"
    ).order_by("-created_at", "-id")
    if invoice_id:
        return (
            rows.filter(payment__invoice__lago_id=invoice_id)
            if is_uuid(invoice_id)
            else rows.none()
        )
    return rows


def receipt_get(lago_id) -> PaymentReceipt:
    receipt = receipts_search().filter(lago_id=lago_id).first() if is_uuid(lago_id) else None
    if receipt is None:
        raise NotFound("payment_receipt")
    return receipt


def payment_requests_search(
    *, external_customer_id: str = "", payment_status: str = "", currency: str = ""
):
    """Lago's GET /payment_requests filters, newest first."""
    rows = PaymentRequest.objects.select_related("customer").order_by("-created_at", "-id")
    if external_customer_id:
        rows = rows.filter(customer__external_id=external_customer_id)
    if payment_status:
        rows = rows.filter(payment_status=payment_status)
    if currency:
        rows = rows.filter(currency=currency)
    return rows


def payment_request_get(lago_id) -> PaymentRequest:
    rows = payment_requests_search()
    request = rows.filter(lago_id=lago_id).first() if is_uuid(lago_id) else None
    if request is None:
        raise NotFound("payment_request")
    return request
