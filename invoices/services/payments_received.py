"""Money received on an invoice outside its provider's collection (Lago's manual payments):
the amount due goes down, and the invoice is paid once nothing is due. Invoicing keeps the
sum; the payments app keeps the payments."""

from django.db import transaction
from django.utils import timezone

from invoices.locks import lock_invoice
from invoices.models import Invoice
from invoices.selectors import invoice_due_cents
from invoices.services.lifecycle import payment_status_changed


@transaction.atomic
def invoice_payment_received(*, invoice: Invoice, amount_cents: int) -> Invoice:
    """Add `amount_cents` (already checked against what is due) to what was paid; when
    nothing is due any more the payment status becomes `succeeded` (webhook, wallet top-up)."""
    invoice = lock_invoice(invoice.pk)
    invoice.total_paid_amount_cents += amount_cents
    fields = ["total_paid_amount_cents", "updated_at"]
    paid = invoice.payment_status == Invoice.PaymentStatus.SUCCEEDED
    if not paid and invoice_due_cents(invoice) == 0:
        invoice.payment_status = Invoice.PaymentStatus.SUCCEEDED
        invoice.payment_status_changed_at = timezone.now()
        invoice.payment_overdue = False
        fields += ["payment_status", "payment_status_changed_at", "payment_overdue"]
        payment_status_changed(invoice)
    invoice.save(update_fields=fields)
    return invoice
