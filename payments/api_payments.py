"""REST API v1 for payments (Lago's /payments: manual payments recorded against invoices),
payment receipts (/payment_receipts) and payment requests (/payment_requests)."""

from drf_spectacular.utils import extend_schema_view

from core.api.viewsets import LagoViewSet
from payments.schemas import PAYMENT_REQUEST_VIEWS, PAYMENT_VIEWS, RECEIPT_VIEWS
from payments.selectors import (
    payment_get,
    payment_request_get,
    payment_requests_search,
    payments_search,
    receipt_get,
    receipts_search,
)
from payments.serializers import payment_json, payment_receipt_json, payment_request_json
from payments.services.manual import payment_create_manual
from payments.services.requests import payment_request_create


@extend_schema_view(**PAYMENT_VIEWS)
class PaymentViewSet(LagoViewSet):
    lago_root, lago_plural = "payment", "payments"
    lookup_field = "lago_id"

    def create(self, request):
        payment = payment_create_manual(data=self.root_payload(request))
        return self.render_one(payment_json(payment_get(payment.lago_id)))

    def list(self, request):
        params = request.query_params
        rows = payments_search(
            external_customer_id=params.get("external_customer_id", ""),
            invoice_id=params.get("invoice_id", ""),
        )
        return self.render_page(rows, payment_json)

    def retrieve(self, request, lago_id=None):
        return self.render_one(payment_json(payment_get(lago_id)))


@extend_schema_view(**RECEIPT_VIEWS)
class PaymentReceiptViewSet(LagoViewSet):
    lago_root, lago_plural = "payment_receipt", "payment_receipts"
    lookup_field = "lago_id"

    def list(self, request):
        rows = receipts_search(invoice_id=request.query_params.get("invoice_id", ""))
        return self.render_page(rows, payment_receipt_json)

    def retrieve(self, request, lago_id=None):
        return self.render_one(payment_receipt_json(receipt_get(lago_id)))


@extend_schema_view(**PAYMENT_REQUEST_VIEWS)
class PaymentRequestViewSet(LagoViewSet):
    lago_root, lago_plural = "payment_request", "payment_requests"
    lookup_field = "lago_id"

    def create(self, request):
        created = payment_request_create(data=self.root_payload(request))
        return self.render_one(payment_request_json(payment_request_get(created.lago_id)))

    def list(self, request):
        params = request.query_params
        rows = payment_requests_search(
            external_customer_id=params.get("external_customer_id", ""),
            payment_status=params.get("payment_status", ""),
            currency=params.get("currency", ""),
        )
        return self.render_page(rows, payment_request_json)

    def retrieve(self, request, lago_id=None):
        return self.render_one(payment_request_json(payment_request_get(lago_id)))
