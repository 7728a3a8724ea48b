"""Lago's POST /payments: a payment received by hand (transfer, cheque) recorded against a
finalized invoice, checked as Lago's Payments::ManualCreateService checks it."""

from datetime import UTC, datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction

from core.errors import NotFound, ValidationFailed
from core.validation import is_uuid, parse_moment
from invoices.models import Invoice
from invoices.selectors import invoice_due_cents
from invoices.services.payments_received import invoice_payment_received
from payments.models import Payment
from payments.services.receipts import payment_receipt_issue
from payments.services.settlement import retries_stop_when_paid

REFERENCE_CHARS = 40  # Lago's limit


def _paid_at(raw) -> datetime | None:
    if raw in (None, ""):
        return None
    moment = parse_moment(raw) if isinstance(raw, str) else None
    if moment is None:
        raise ValidationFailed({"paid_at": ["invalid_date"]})
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # a day or naive: UTC


def _invoice(data: dict) -> Invoice:
    if not data.get("invoice_id"):
        raise ValidationFailed({"invoice_id": ["value_is_mandatory"]})
    amount = data.get("amount_cents")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed({"amount_cents": ["invalid_value"]})
    invoice_id = data["invoice_id"]
    visible = Invoice.objects.exclude(status__in=[Invoice.Status.CLOSED, Invoice.Status.DELETED])
    invoice = visible.filter(lago_id=invoice_id).first() if is_uuid(invoice_id) else None
    if invoice is None:
        raise NotFound("invoice")
    if invoice.status != Invoice.Status.FINALIZED:
        raise PermissionDenied("Only a finalized invoice takes a manual payment.")  # Lago: 403
    return invoice


def _check(invoice: Invoice, data: dict) -> None:
    reference = data.get("reference")
    if not isinstance(reference, str) or not reference.strip():
        raise ValidationFailed({"reference": ["value_is_mandatory"]})
    if len(reference) > REFERENCE_CHARS:
        raise ValidationFailed({"reference": ["value_is_too_long"]})
    amount = data["amount_cents"]
    credit = invoice.invoice_type == Invoice.InvoiceType.CREDIT
    if credit and amount != invoice.total_amount_cents:
        raise ValidationFailed({"amount_cents": ["invalid_amount"]})
    if amount > invoice_due_cents(invoice):
        raise ValidationFailed({"amount_cents": ["value_is_out_of_range"]})


@transaction.atomic
def payment_create_manual(*, data: dict) -> Payment:
    """Record the payment (succeeded), lower the invoice's amount due, mark it paid when
    nothing is due, issue the receipt when the organization issues them."""
    invoice = _invoice(data)
    paid_at = _paid_at(data.get("paid_at"))
    invoice = Invoice.objects.select_for_update().select_related("customer").get(pk=invoice.pk)
    _check(invoice, data)
    payment = Payment.objects.create(
        invoice=invoice,
        customer=invoice.customer,
        kind=Payment.Kind.MANUAL,
        provider="",
        reference=data["reference"],
        status=Payment.Status.SUCCEEDED,
        amount_cents=data["amount_cents"],
        currency=invoice.currency,
        succeeded_at=paid_at,
    )
    if paid_at is not None:  # Lago dates a manual payment when it was made
        Payment.objects.filter(pk=payment.pk).update(created_at=paid_at)
    invoice_payment_received(invoice=invoice, amount_cents=payment.amount_cents)
    retries_stop_when_paid(invoice)
    payment.refresh_from_db()
    payment_receipt_issue(payment=payment)
    return payment
