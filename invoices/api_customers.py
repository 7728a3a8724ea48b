"""GET /api/v1/customers/{external_id}/invoices and /credit_notes: mixed into the customers'
viewset in billing_site/api_urls.py (customers cannot import invoices, a higher layer)."""

from rest_framework.decorators import action

from customers.selectors import customer_get
from invoices.api import invoice_rows
from invoices.api_credit_notes import credit_note_rows
from invoices.links import pdf_url
from invoices.schemas import CUSTOMER_CREDIT_NOTES, CUSTOMER_INVOICES
from invoices.serializers import credit_note_json, invoice_json


# The invoicing endpoints of CustomerViewSet (no docstring, as CustomerUsageActions).
class CustomerInvoiceActions:
    @CUSTOMER_INVOICES
    @action(detail=True, methods=["get"], url_path="invoices")
    def invoices(self, request, external_id=None):
        """The customer's invoices with GET /invoices' filters; 404 customer_not_found."""
        customer = customer_get(external_id=external_id)
        rows = invoice_rows(request.query_params).filter(customer=customer)
        return self.render_page(
            rows,
            lambda i: invoice_json(i, file_url=pdf_url(i, request) if i.file else None),
            plural="invoices",
        )

    @CUSTOMER_CREDIT_NOTES
    @action(detail=True, methods=["get"], url_path="credit_notes")
    def credit_notes(self, request, external_id=None):
        """The customer's credit notes with GET /credit_notes' filters."""
        customer = customer_get(external_id=external_id)
        rows = credit_note_rows(request.query_params).filter(customer=customer)
        return self.render_page(rows, credit_note_json, plural="credit_notes")
