"""REST API v1 for payments (Lago's /payments: manual payments recorded against invoices)
and payment receipts (/payment_receipts)."""

from drf_spectacular.utils import extend_schema_view

from core.api.viewsets import LagoViewSet
from payments.schemas import PAYMENT_VIEWS, RECEIPT_VIEWS
from payments.selectors import payment_get, payments_search, receipt_get, receipts_search
from payments.serializers import payment_json, payment_receipt_json
from payments.services.manual import payment_create_manual


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
