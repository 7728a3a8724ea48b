"""Lago's PUT and DELETE /fees/{id}. Lago lets a fee's own payment status be set, and the fee
be deleted, only while it is on no invoice (a pay-in-advance fee of a non-invoiceable charge);
once invoiced, the invoice carries the payment status. Every fee here is on an invoice, so
both answer Lago's 405 `invoiced_fee` — after the same checks Lago makes first."""

from core.errors import NotAllowed, ValidationFailed
from invoices.models import Fee

PAYMENT_STATUSES = ("pending", "succeeded", "failed", "refunded")


def _refuse_invoiced(fee: Fee) -> None:
    if fee.invoice_id is not None:
        raise NotAllowed("invoiced_fee", "The fee is on an invoice: its invoice is paid.")


def fee_update(*, fee: Fee, data: dict) -> Fee:
    """Only `payment_status` is read (Lago permits nothing else); without it, a no-op."""
    if "payment_status" not in data:
        return fee
    _refuse_invoiced(fee)
    if data["payment_status"] not in PAYMENT_STATUSES:  # pragma: no cover (unreachable here)
        raise ValidationFailed({"payment_status": ["value_is_invalid"]})
    return fee


def fee_destroy(*, fee: Fee) -> Fee:
    """Nothing is deleted: an invoiced fee stays with its invoice."""
    _refuse_invoiced(fee)
    return fee  # pragma: no cover (unreachable here)
