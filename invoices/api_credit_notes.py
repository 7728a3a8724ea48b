"""REST API v1 for credit notes (Lago wire format)."""

import uuid

from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.response import Response

from core.api.params import query_cents, query_date
from core.api.viewsets import LagoViewSet
from core.errors import NotFound, ValidationFailed
from invoices.links import credit_note_pdf_url
from invoices.models import CreditNote
from invoices.schemas import CREDIT_NOTE_VIEWS
from invoices.serializers import credit_note_estimate_json, credit_note_json
from invoices.services.credit_notes import (
    credit_note_create,
    credit_note_estimate,
    credit_note_invoice,
    credit_note_metadata_set,
    credit_note_void,
)

# What a client may send (Lago's permitted params); `automatic` is the system's only.
CREATE_KEYS = (
    "invoice_id",
    "reason",
    "description",
    "credit_amount_cents",
    "refund_amount_cents",
    "offset_amount_cents",
    "items",
    "metadata",
)


def _note(lago_id) -> CreditNote:
    try:
        uuid.UUID(str(lago_id))
    except ValueError as exc:
        raise NotFound("credit_note") from exc
    note = CreditNote.objects.filter(lago_id=lago_id).select_related("invoice", "customer").first()
    if note is None:
        raise NotFound("credit_note")
    return note


def credit_note_rows(params):
    """Credit notes, newest first, with Lago's list filters (GET /credit_notes and
    GET /customers/{id}/credit_notes alike); the issuing date is the day of creation (UTC)."""
    rows = CreditNote.objects.select_related("invoice", "customer").order_by("-created_at", "-id")
    for field in ("reason", "credit_status", "refund_status", "currency"):
        if params.get(field):
            rows = rows.filter(**{field: params[field]})
    if params.get("invoice_number"):
        rows = rows.filter(invoice__number=params["invoice_number"])
    if issued_from := query_date(params, "issuing_date_from"):
        rows = rows.filter(created_at__date__gte=issued_from)
    if issued_to := query_date(params, "issuing_date_to"):
        rows = rows.filter(created_at__date__lte=issued_to)
    if (low := query_cents(params, "amount_from")) is not None:
        rows = rows.filter(total_amount_cents__gte=low)
    if (high := query_cents(params, "amount_to")) is not None:
        rows = rows.filter(total_amount_cents__lte=high)
    return rows


@extend_schema_view(**CREDIT_NOTE_VIEWS)
class CreditNoteViewSet(LagoViewSet):
    lago_root, lago_plural = "credit_note", "credit_notes"
    lookup_field = "lago_id"

    def get_queryset(self):
        params = self.request.query_params
        rows = credit_note_rows(params)
        customer = params.get("external_customer_id")
        return rows.filter(customer__external_id=customer) if customer else rows

    def create(self, request):
        payload = self.root_payload(request)
        note = credit_note_create(data={key: payload.get(key) for key in CREATE_KEYS})
        return self.render_one(credit_note_json(note))

    def list(self, request):
        return self.render_page(self.get_queryset(), credit_note_json)

    def retrieve(self, request, lago_id=None):
        return self.render_one(credit_note_json(_note(lago_id)))

    def update(self, request, lago_id=None):
        """Only metadata and the refund status (for refunds made outside the provider)."""
        from invoices.services.credit_notes import credit_note_update

        note = credit_note_update(note=_note(lago_id), data=self.root_payload(request))
        return self.render_one(credit_note_json(note))

    @action(detail=True, methods=["put"], url_path="void")
    def void(self, request, lago_id=None):
        return self.render_one(credit_note_json(credit_note_void(note=_note(lago_id))))

    @action(detail=True, methods=["post"], url_path="download")
    def download(self, request, lago_id=None):
        """Answers with file_url, a signed link to the credit note's PDF."""
        note = _note(lago_id)
        data = credit_note_json(note)
        data["file_url"] = credit_note_pdf_url(note, request)
        return self.render_one(data)

    @action(
        detail=True,
        methods=["post", "patch", "delete"],
        url_path=r"metadata(?:/(?P<key>[^/]+))?",
    )
    def metadata(self, request, lago_id=None, key=None):
        """Replace (POST), merge (PATCH), clear (DELETE) the metadata, or remove one key
        (DELETE …/metadata/{key}); answers the metadata left."""
        note = _note(lago_id)
        if key is not None and request.method != "DELETE":
            raise MethodNotAllowed(request.method)
        payload = request.data.get("metadata") if isinstance(request.data, dict) else None
        if request.method != "DELETE" and not isinstance(payload, dict):
            raise ValidationFailed({"metadata": ["invalid_format"]})
        merge = request.method == "PATCH"
        note = credit_note_metadata_set(note=note, metadata=payload, merge=merge, key=key)
        return self.render_one(note.metadata, root="metadata")

    @action(detail=False, methods=["post"], url_path="estimate")
    def estimate(self, request):
        """The amounts a credit note with these items would have (nothing is saved)."""
        data = self.root_payload(request)
        invoice = credit_note_invoice(data.get("invoice_id"))
        estimate = credit_note_estimate(invoice=invoice, items=data.get("items"))
        return Response({"estimated_credit_note": credit_note_estimate_json(estimate)})
