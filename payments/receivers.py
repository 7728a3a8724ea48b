"""What payments does when invoicing announces something (core.hooks, registered in
PaymentsConfig.ready): invoicing never names a provider nor imports this app."""

from django.db import transaction

from payments.providers import provider_named
from payments.tasks import collect_invoice, refund_credit_note


def collect_when_finalized(*, invoice) -> None:
    """invoice.finalized: collect its amount due after commit, for a customer whose provider
    this app knows (configured or not: a disabled provider's task collects nothing)."""
    if invoice.total_amount_cents <= 0:
        return
    if provider_named(invoice.customer.payment_provider) is None:
        return
    invoice_id = invoice.pk
    transaction.on_commit(lambda: collect_invoice.delay(invoice_id))


def refund_when_due(*, credit_note) -> None:
    """credit_note.refund_due: refund it at the provider after commit."""
    note_id = credit_note.pk
    transaction.on_commit(lambda: refund_credit_note.delay(note_id))
