"""What a payment request's payment does to it and to its invoices: paid, every invoice is
paid (what was due on each is recorded as received); failed, the request is failed and the
invoices stay as they are (overdue, for the next request or a payment by hand). No dunning
retries for a request: a new request is the retry, as in Lago."""

from invoices.models import Invoice
from invoices.selectors import invoice_due_cents
from invoices.services.payments_received import invoice_payment_received
from payments.models import Payment, PaymentRequest


def payment_request_settle(payment: Payment) -> None:
    """Inside the transaction that marks the payment succeeded."""
    request = PaymentRequest.objects.select_for_update().get(pk=payment.payment_request_id)
    request.payment_status = PaymentRequest.PaymentStatus.SUCCEEDED
    request.save(update_fields=["payment_status", "updated_at"])
    for invoice in request.invoices.order_by("pk"):
        due = invoice_due_cents(invoice)
        if due > 0 and invoice.status == Invoice.Status.FINALIZED:
            invoice_payment_received(invoice=invoice, amount_cents=due)


def payment_request_failed(payment: Payment) -> None:
    PaymentRequest.objects.filter(pk=payment.payment_request_id).exclude(
        payment_status=PaymentRequest.PaymentStatus.SUCCEEDED
    ).update(payment_status=PaymentRequest.PaymentStatus.FAILED)
