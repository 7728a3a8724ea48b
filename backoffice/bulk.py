"""The bulk-job kinds of the admin's actions: "bill now" on subscriptions, "finalize" on draft
invoices, "retry payment" on invoices. Each needs invoicing or payments, so core's runner
(`core/bulk.py`) gets them from here through `register_kind`, called in BackofficeConfig.ready."""

from core.bulk import register_kind
from core.models import BulkJob
from customers.models import Subscription
from invoices.models import Invoice
from invoices.services import invoice_finalize, subscription_bill_due, subscription_schedule
from payments.services import payment_retry_now


def bill_now(object_id: int) -> None:
    subscription_schedule(subscription=Subscription.objects.get(pk=object_id))
    subscription_bill_due(subscription_id=object_id)


def finalize(object_id: int) -> None:
    invoice_finalize(invoice=Invoice.objects.get(pk=object_id))


def retry_payment(object_id: int) -> None:
    payment_retry_now(invoice=Invoice.objects.get(pk=object_id))


def register() -> None:
    register_kind(BulkJob.Kind.BILL_NOW, step=bill_now)
    register_kind(BulkJob.Kind.FINALIZE, step=finalize)
    register_kind(BulkJob.Kind.RETRY_PAYMENTS, step=retry_payment)
