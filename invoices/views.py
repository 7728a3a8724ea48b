"""The invoice PDF behind a signed link (file_url)."""

from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from invoices.links import pdf_token_valid
from invoices.models import Invoice


@require_GET
def invoice_pdf(request, lago_id):
    """The stored PDF of a finalized invoice, or a fresh rendering of a draft."""
    if not pdf_token_valid(str(lago_id), request.GET.get("token", "")):
        raise Http404
    invoice = Invoice.objects.filter(lago_id=lago_id).select_related("customer").first()
    if invoice is None or invoice.status == Invoice.Status.CLOSED:
        raise Http404
    return pdf_response(invoice)


def pdf_response(invoice: Invoice, *, attachment: bool = False) -> HttpResponse:
    from invoices.documents import invoice_pdf_render

    if invoice.file:
        content = invoice.file.open("rb").read()
    else:
        content = invoice_pdf_render(invoice=invoice)
    response = HttpResponse(content, content_type="application/pdf")
    name = f"invoice-{invoice.number or 'draft'}.pdf"
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response


@require_GET
def credit_note_pdf(request, lago_id):
    """A credit note's PDF behind a signed link."""
    from invoices.documents import credit_note_pdf_render
    from invoices.models import CreditNote

    if not pdf_token_valid(str(lago_id), request.GET.get("token", "")):
        raise Http404
    note = CreditNote.objects.filter(lago_id=lago_id).select_related("invoice__customer").first()
    if note is None:
        raise Http404
    response = HttpResponse(credit_note_pdf_render(note=note), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="credit-note-{note.number}.pdf"'
    return response
