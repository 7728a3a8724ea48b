"""What a payment request's payment does to it and to its invoices: paid, every invoice is
paid (what was due on each is recorded as received); failed, the request is failed and the
invoices stay as they are (overdue, for the next request or a payment by hand). No dunning
retries for a request: a new request is the retry, as in Lago."""

from core.locks import lock_one
from invoices.models import Invoice
from invoices.selectors import invoice_due_cents
from invoices.services.payments_received import invoice_payment_received
from payments.models import Payment, PaymentRequest


def retries_stop_when_paid(invoice: Invoice) -> None:
    """An invoice paid another way (by hand, by a request) is not collected again: its
    provider payment's dunning schedule ends."""
    invoice.refresh_from_db(fields=["payment_status"])
    if invoice.payment_status == Invoice.PaymentStatus.SUCCEEDED:
        Payment.objects.filter(
            invoice=invoice, kind=Payment.Kind.PROVIDER, next_retry_at__isnull=False
        ).update(next_retry_at=None)


def payment_request_settle(payment: Payment) -> None:
    """Inside the transaction that marks the payment succeeded."""
    request = lock_one(PaymentRequest, payment.payment_request_id)
    request.payment_status = PaymentRequest.PaymentStatus.SUCCEEDED
    request.save(update_fields=["payment_status", "updated_at"])
    for invoice in request.invoices.order_by("pk"):
        due = invoice_due_cents(invoice)
        if due > 0 and invoice.status == Invoice.Status.FINALIZED:
            invoice_payment_received(invoice=invoice, amount_cents=due)
            retries_stop_when_paid(invoice)


def payment_request_failed(payment: Payment) -> None:
    PaymentRequest.objects.filter(pk=payment.payment_request_id).exclude(
        payment_status=PaymentRequest.PaymentStatus.SUCCEEDED
    ).update(payment_status=PaymentRequest.PaymentStatus.FAILED)
