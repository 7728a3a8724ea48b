"""Lago's POST /invoices (a one-off invoice), for InvoiceViewSet.create to call."""

from invoices.one_off import one_off_invoice_create
from invoices.serializers import invoice_json


def one_off_create_view(viewset, request):
    """Issue the one-off invoice of the root payload and answer it, finalized and numbered."""
    invoice = one_off_invoice_create(data=viewset.root_payload(request))
    return viewset.render_one(invoice_json(invoice))
