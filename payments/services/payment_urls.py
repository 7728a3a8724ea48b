"""Lago's POST /invoices/{id}/payment_url: a provider page where the customer pays the
amount due now (Stripe Checkout), checked as Lago's GeneratePaymentUrlService checks."""

from core.errors import RuleViolation, ValidationFailed
from invoices.models import Invoice
from invoices.selectors import invoice_due_cents
from payments.providers import provider_named
from payments.providers.base import ProviderError
from payments.services.collection import payment_for
from payments.services.sync import customer_provider_sync


def _refuse(code: str) -> None:
    raise ValidationFailed({"base": [code]})


def invoice_payment_url(*, invoice: Invoice) -> str:
    """The link; 422 with Lago's codes when the invoice cannot be paid through one."""
    customer = invoice.customer
    provider = provider_named(customer.payment_provider)
    if provider is None:
        _refuse("no_linked_payment_provider")
    payable = invoice.status == Invoice.Status.FINALIZED and invoice_due_cents(invoice) > 0
    if not payable or invoice.payment_status == Invoice.PaymentStatus.SUCCEEDED:
        _refuse("invalid_invoice_status_or_payment_status")
    if not provider.enabled():
        _refuse("missing_payment_provider")
    if not customer.provider_customer_id:
        customer_provider_sync(customer=customer)
        customer.refresh_from_db()
    if not customer.provider_customer_id:
        _refuse("missing_payment_provider_customer")
    payment = payment_for(invoice, provider.name)
    try:
        return provider.payment_url(
            invoice=invoice, payment=payment, amount_cents=invoice_due_cents(invoice)
        )
    except ProviderError as exc:
        raise RuleViolation("third_party_error", str(exc)) from exc
