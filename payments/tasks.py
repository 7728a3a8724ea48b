"""Payment tasks: collection after finalization, dunning retries, refunds, reconciliation."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from invoices.models import Invoice


@shared_task(name="payments.collect_invoice", acks_late=True, ignore_result=True)
def collect_invoice(invoice_id: int) -> None:
    """Charge a finalized invoice (a running or paid attempt is never repeated)."""
    from payments.services import invoice_collect

    invoice_collect(invoice=Invoice.objects.get(pk=invoice_id))


@shared_task(name="payments.retry_due", acks_late=True, ignore_result=True)
def retry_due() -> int:
    """Beat: enqueue the failed payments whose retry is due (dunning schedule)."""
    from payments.services import payments_retry_due

    ids = payments_retry_due()
    for invoice_id in ids:
        collect_invoice.delay(invoice_id)
    return len(ids)


@shared_task(name="payments.refund_credit_note", acks_late=True, ignore_result=True)
def refund_credit_note(credit_note_id: int) -> None:
    from invoices.models import CreditNote
    from payments.services import credit_note_refund

    credit_note_refund(credit_note=CreditNote.objects.get(pk=credit_note_id))


@shared_task(name="payments.sync_customer", acks_late=True, ignore_result=True)
def sync_customer(customer_id: int) -> None:
    from customers.models import Customer
    from payments.services import customer_provider_sync

    customer_provider_sync(customer=Customer.objects.get(pk=customer_id))


@shared_task(name="payments.reconcile", acks_late=True, ignore_result=True)
def reconcile() -> int:
    """Nightly: compare the last two days of payments at each provider with our rows."""
    from payments.services import payments_reconcile

    return len(payments_reconcile(since=timezone.now() - timedelta(days=2)))
