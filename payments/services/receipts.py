"""Lago's payment receipts: one per succeeded payment, issued when the organization enables
them (`issue_receipts_enabled`), numbered PREFIX-RCPT-NNNNNN in one gapless series taken in
the payment's transaction. Idempotent: the receipt's one-to-one link to the payment."""

from django.db import IntegrityError, transaction

from core.selectors import organization_get
from invoices.services.numbering import next_sequence_value
from payments.models import Payment, PaymentReceipt
from payments.serializers import payment_receipt_json
from webhooks.services import webhook_send


def payment_receipt_issue(*, payment: Payment) -> PaymentReceipt | None:
    """The payment's receipt, issued now if due; None when receipts are off or the payment
    has not succeeded."""
    organization = organization_get()
    if not organization.issue_receipts_enabled or payment.status != Payment.Status.SUCCEEDED:
        return None
    existing = PaymentReceipt.objects.filter(payment=payment).first()
    if existing is not None:
        return existing
    prefix = f"{organization.invoice_prefix}-RCPT"
    try:
        with transaction.atomic():
            value = next_sequence_value(prefix)
            receipt = PaymentReceipt.objects.create(
                payment=payment, sequential_id=value, number=f"{prefix}-{value:06d}"
            )
    except IntegrityError:  # issued meanwhile by another transaction
        return PaymentReceipt.objects.get(payment=payment)
    webhook_send(
        webhook_type="payment_receipt.created",
        object_type="payment_receipt",
        data=payment_receipt_json(receipt),
    )
    return receipt
