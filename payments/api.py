"""REST API v1 endpoints that need payments: the invoice routes plus retry_payment, served
under the same /invoices paths and URL names (billing_site/api_urls.py registers this viewset
for "invoices"), so invoicing's API names no provider."""

from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action

from invoices.api import InvoiceViewSet
from invoices.schemas import INVOICE_RETRY_PAYMENT_VIEW
from payments.services import payment_retry_now
from payments.services.payment_urls import invoice_payment_url


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

    @action(detail=True, methods=["post"], url_path="payment_url")
    def payment_url(self, request, lago_id=None):
        """Lago's payment_url: a provider page (Stripe Checkout) for the amount due."""
        invoice = self._get(lago_id)
        details = {
            "lago_customer_id": str(invoice.customer.lago_id),
            "lago_invoice_id": str(invoice.lago_id),
            "external_customer_id": invoice.customer.external_id,
            "payment_provider": invoice.customer.payment_provider,
            "payment_url": invoice_payment_url(invoice=invoice),
        }
        return self.render_one(details, root="invoice_payment_details")
