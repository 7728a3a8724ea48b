"""REST API v1 for invoices (Lago wire format)."""

import uuid

from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action

from core.api.params import query_cents, query_date
from core.api.viewsets import LagoViewSet
from core.errors import NotFound, RuleViolation
from invoices.links import pdf_url
from invoices.models import Invoice
from invoices.schemas import INVOICE_VIEWS
from invoices.selectors import overdue_q
from invoices.serializers import invoice_json
from invoices.services import invoice_finalize, invoice_refresh, invoice_update, invoice_void
from invoices.services.operations import invoice_delete, invoice_lose_dispute, invoice_retry
from invoices.services.preview import invoice_preview

VISIBLE = [Invoice.Status.DRAFT, Invoice.Status.FINALIZED, Invoice.Status.VOIDED]


def _invoices():
    return (
        Invoice.objects.filter(status__in=VISIBLE)
        .select_related("customer")
        .prefetch_related(
            "customer__metadata",
            "billings__subscription__plan__parent",
            "billings__subscription__customer",
            "fees__charge__billable_metric",
            "fees__charge_filter",
            "fees__subscription",
            "fees__true_up_parent",
            "fees__applied_taxes",
            "applied_taxes",
        )
    )


def invoice_rows(params):
    """Visible invoices, newest first, with Lago's list filters (GET /invoices and
    GET /customers/{id}/invoices alike)."""
    rows = _invoices().order_by("-issuing_date", "-id")
    for field in ("status", "payment_status", "invoice_type", "currency"):
        if params.get(field):
            rows = rows.filter(**{field: params[field]})
    if params.get("payment_overdue") in ("true", "True", "1"):
        rows = rows.filter(overdue_q())
    elif params.get("payment_overdue") in ("false", "False", "0"):
        rows = rows.exclude(overdue_q())
    if issued_from := query_date(params, "issuing_date_from"):
        rows = rows.filter(issuing_date__gte=issued_from)
    if issued_to := query_date(params, "issuing_date_to"):
        rows = rows.filter(issuing_date__lte=issued_to)
    if (low := query_cents(params, "amount_from")) is not None:
        rows = rows.filter(total_amount_cents__gte=low)
    if (high := query_cents(params, "amount_to")) is not None:
        rows = rows.filter(total_amount_cents__lte=high)
    return rows


@extend_schema_view(**INVOICE_VIEWS)
class InvoiceViewSet(LagoViewSet):
    lago_root, lago_plural = "invoice", "invoices"
    lookup_field = "lago_id"

    def get_queryset(self):
        params = self.request.query_params
        rows = invoice_rows(params)
        if params.get("external_customer_id"):
            rows = rows.filter(customer__external_id=params["external_customer_id"])
        return rows

    def _get(self, lago_id) -> Invoice:
        invoice = _invoices().filter(lago_id=lago_id).first() if _is_uuid(lago_id) else None
        if invoice is None:
            raise NotFound("invoice")
        return invoice

    def _render(self, invoice: Invoice):
        invoice = self._get(invoice.lago_id)
        url = pdf_url(invoice, self.request) if invoice.file else None
        return self.render_one(invoice_json(invoice, file_url=url))

    def create(self, request):
        """Lago's one-off invoice: add-on fees, issued and finalized at once."""
        from invoices.api_one_off import one_off_create_view

        return one_off_create_view(self, request)

    def list(self, request):
        return self.render_page(
            self.get_queryset(),
            lambda i: invoice_json(i, file_url=pdf_url(i, request) if i.file else None),
        )

    def retrieve(self, request, lago_id=None):
        return self._render(self._get(lago_id))

    def update(self, request, lago_id=None):
        data = self.root_payload(request)
        return self._render(invoice_update(invoice=self._get(lago_id), data=data))

    def destroy(self, request, lago_id=None):
        """Lago's delete: drafts only (405 not_deletable); the invoice as it was."""
        invoice = self._get(lago_id)
        data = invoice_json(invoice)
        invoice_delete(invoice=invoice)
        return self.render_one(data)

    @action(detail=True, methods=["post"], url_path="retry")
    def retry(self, request, lago_id=None):
        return self._render(invoice_retry(invoice=self._get(lago_id)))

    @action(detail=True, methods=["post", "put"], url_path="lose_dispute")
    def lose_dispute(self, request, lago_id=None):
        """POST as Lago's route; PUT too, as lago-python-client sends it."""
        return self._render(invoice_lose_dispute(invoice=self._get(lago_id)))

    @action(detail=False, methods=["post"], url_path="preview")
    def preview(self, request):
        """The invoice the body describes, computed and rolled back (nothing is stored)."""
        body = request.data if isinstance(request.data, dict) else {}
        return self.render_one(invoice_preview(data=body, render=preview_json))

    @action(detail=True, methods=["put"], url_path="finalize")
    def finalize(self, request, lago_id=None):
        invoice = self._get(lago_id)
        if invoice.status != Invoice.Status.DRAFT:
            raise NotFound("invoice")  # Lago: only drafts are found by this route
        return self._render(invoice_finalize(invoice=invoice))

    @action(detail=True, methods=["put"], url_path="refresh")
    def refresh(self, request, lago_id=None):
        return self._render(invoice_refresh(invoice=self._get(lago_id)))

    @action(detail=True, methods=["post"], url_path="void")
    def void(self, request, lago_id=None):
        """Body (optional, not wrapped): generate_credit_note, credit_amount, refund_amount."""
        body = request.data if isinstance(request.data, dict) else {}
        invoice = invoice_void(
            invoice=self._get(lago_id),
            generate_credit_note=bool(body.get("generate_credit_note")),
            credit_amount=body.get("credit_amount"),
            refund_amount=body.get("refund_amount"),
        )
        return self._render(invoice)

    @action(detail=True, methods=["post"], url_path="download")
    def download(self, request, lago_id=None):
        """Answers with file_url, a signed link to the PDF (rendered now if not stored yet)."""
        from invoices.documents import invoice_pdf_store

        invoice = self._get(lago_id)
        if invoice.status == Invoice.Status.FINALIZED and not invoice.file:
            invoice_pdf_store(invoice=invoice)
        elif invoice.status == Invoice.Status.VOIDED and not invoice.file:
            raise RuleViolation("invoice_voided", "A voided invoice without a PDF has none.")
        invoice = self._get(lago_id)
        return self.render_one(invoice_json(invoice, file_url=pdf_url(invoice, request)))


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def preview_json(invoice: Invoice) -> dict:
    """A preview as Lago renders one: a draft without a number or a PDF."""
    from core.selectors import organization_get

    data = invoice_json(invoice)
    prefix = organization_get().invoice_prefix
    return data | {"status": "draft", "number": f"{prefix}-DRAFT", "sequential_id": None}
