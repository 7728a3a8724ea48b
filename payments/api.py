"""REST API v1 endpoints that need payments: the invoice routes plus retry_payment, served
under the same /invoices paths and URL names (billing_site/api_urls.py registers this viewset
for "invoices"), so invoicing's API names no provider."""

from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action

from invoices.api import InvoiceViewSet
from invoices.schemas import INVOICE_RETRY_PAYMENT_VIEW
from payments.services import payment_retry_now


@extend_schema_view(**INVOICE_RETRY_PAYMENT_VIEW)
class PayableInvoiceViewSet(InvoiceViewSet):
    # Lago's invoice routes, and collecting one now. No docstring on purpose: the OpenAPI
    # schema takes the nearest class docstring as each route's description, and it must stay
    # byte-identical to the one InvoiceViewSet served.

    @action(detail=True, methods=["post"], url_path="retry_payment")
    def retry_payment(self, request, lago_id=None):
        """Collect now through the payment provider (whatever the dunning schedule says)."""
        invoice = self._get(lago_id)
        payment_retry_now(invoice=invoice)
        return self._render(invoice)
