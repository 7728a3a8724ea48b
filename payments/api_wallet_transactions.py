"""POST /api/v1/wallet_transactions/{lago_id}/payment_url: mixed into the wallet transactions'
viewset in billing_site/api_urls.py (customers cannot import payments, a higher layer)."""

from drf_spectacular.utils import inline_serializer
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.schema import Dict, Str, op
from core.errors import NotFound, ValidationFailed
from core.validation import is_uuid
from customers.models import WalletTransaction
from payments.services.collection import invoice_payment_url

PAYMENT_URL = op(
    "A page where the customer pays a pending top-up",
    inline_serializer(
        name="WalletTransactionPaymentUrl",
        fields={"wallet_transaction_payment_details": Dict(child=Str(allow_null=True))},
    ),
)


def _payable(lago_id) -> WalletTransaction:
    """A purchase not settled yet, with its credit invoice (Lago's checks, in its order)."""
    rows = WalletTransaction.objects.select_related("invoice__customer")
    row = rows.filter(lago_id=lago_id).first() if is_uuid(lago_id) else None
    if row is None:
        raise NotFound("wallet_transaction")
    if row.transaction_status != WalletTransaction.TransactionStatus.PURCHASED:
        raise ValidationFailed({"base": ["wallet_transaction_not_purchased"]})
    if row.status == WalletTransaction.Status.SETTLED:
        raise ValidationFailed({"base": ["wallet_transaction_already_settled"]})
    if row.invoice_id is None:
        raise ValidationFailed({"base": ["wallet_transaction_has_no_attached_invoice"]})
    return row


# The payment endpoint of WalletTransactionViewSet (no docstring, as CustomerCheckoutActions).
class WalletTransactionPaymentActions:
    @PAYMENT_URL
    @action(detail=True, methods=["post"], url_path="payment_url")
    def payment_url(self, request, lago_id=None):
        """A hosted payment page for the top-up's credit invoice (the payment provider's)."""
        row = _payable(lago_id)
        provider, url = invoice_payment_url(invoice=row.invoice)
        customer = row.invoice.customer
        details = {
            "lago_customer_id": str(customer.lago_id),
            "external_customer_id": customer.external_id,
            "payment_provider": provider,
            "lago_wallet_transaction_id": str(row.lago_id),
            "payment_url": url,
        }
        return Response({"wallet_transaction_payment_details": details})
