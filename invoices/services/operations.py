"""Lago's invoice operations beyond the lifecycle: delete a draft, retry a failed
finalization, record a lost payment dispute."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from core.errors import NotAllowed
from invoices.locks import lock_invoice
from invoices.models import BillingFailure, Invoice
from invoices.services.failures import invoice_finalize_isolated
from invoices.services.lifecycle import notify

Status = Invoice.Status


@transaction.atomic
def invoice_delete(*, invoice: Invoice) -> Invoice:
    """Lago's DELETE /invoices/{id}: a draft only (405 `not_deletable` otherwise). The row
    stays, as `deleted` (never shown again), so its billings keep their boundaries billed
    once; like a voided invoice's, its fees count as never billed (Invoice.NOT_BILLED).
    A draft carries no deduction yet (coupons, credit notes and wallets apply at
    finalization), so nothing else is given back."""
    invoice = lock_invoice(invoice.pk)
    if invoice.status != Status.DRAFT:
        raise NotAllowed("not_deletable", "Only a draft invoice can be deleted.")
    invoice.status, invoice.finalize_after = Status.DELETED, None
    invoice.save(update_fields=["status", "finalize_after", "updated_at"])
    notify(invoice, "invoice.deleted")
    return invoice


def _open_failures(invoice: Invoice):
    """The unresolved failures recorded against the invoice's billings."""
    same_billing = Q(pk__in=[])
    for subscription_id, boundary in invoice.billings.values_list("subscription_id", "boundary"):
        same_billing |= Q(subscription_id=subscription_id, boundary=boundary)
    return BillingFailure.objects.filter(same_billing, resolved_at__isnull=True)


def invoice_retry(*, invoice: Invoice) -> Invoice:
    """Lago's POST /invoices/{id}/retry: an invoice whose generation failed is tried again.
    Here a failed finalization leaves a draft with an open BillingFailure on its billings;
    it is finalized now (recorded again if it fails, as the beat would). Any other invoice:
    405 `invalid_status`, as Lago answers for an invoice that has not failed."""
    failures = _open_failures(invoice)
    if invoice.status != Status.DRAFT or not failures.exists():
        raise NotAllowed("invalid_status", "Only an invoice whose finalization failed is retried.")
    now = timezone.now()
    if invoice_finalize_isolated(invoice=invoice, now=now) is not None:
        failures.update(resolved_at=now)
    return Invoice.objects.get(pk=invoice.pk)


@transaction.atomic
def invoice_lose_dispute(*, invoice: Invoice) -> Invoice:
    """Lago's POST /invoices/{id}/lose_dispute: a finalized or voided invoice is marked as
    having lost its payment dispute (once: the first date stays); 405 `not_disputable` for a
    draft. The `invoice.payment_dispute_lost` webhook follows, as for a provider's lost dispute."""
    invoice = lock_invoice(invoice.pk)
    if invoice.status not in (Status.FINALIZED, Status.VOIDED):
        raise NotAllowed("not_disputable", "Only a finalized or voided invoice is disputed.")
    if invoice.payment_dispute_lost_at is None:
        invoice.payment_dispute_lost_at = timezone.now()
        invoice.save(update_fields=["payment_dispute_lost_at", "updated_at"])
        notify(invoice, "invoice.payment_dispute_lost")
    return invoice
