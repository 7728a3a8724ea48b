"""REST API v1 for fees (Lago's /fees): list with Lago's filters, find, update, delete."""

from drf_spectacular.utils import extend_schema_view

from core.api.params import query_datetime
from core.api.viewsets import LagoViewSet
from core.errors import NotFound
from core.validation import is_uuid
from invoices.models import Fee
from invoices.schemas import FEE_VIEWS
from invoices.selectors import fees_search, fees_visible
from invoices.serializers import fee_json
from invoices.services.fee_edits import fee_destroy, fee_update

PLAIN_FILTERS = (
    "external_customer_id",
    "external_subscription_id",
    "currency",
    "fee_type",
    "payment_status",
    "billable_metric_code",
    "event_transaction_id",
)
RANGES = ("created_at", "succeeded_at", "failed_at", "refunded_at")


def fee_get(lago_id) -> Fee:
    fee = fees_visible().filter(lago_id=lago_id).first() if is_uuid(lago_id) else None
    if fee is None:
        raise NotFound("fee")
    return fee


@extend_schema_view(**FEE_VIEWS)
class FeeViewSet(LagoViewSet):
    lago_root, lago_plural = "fee", "fees"
    lookup_field = "lago_id"

    def get_queryset(self):
        params = self.request.query_params
        ranges = {
            name: (query_datetime(params, f"{name}_from"), query_datetime(params, f"{name}_to"))
            for name in RANGES
        }
        filters = {name: params.get(name) for name in PLAIN_FILTERS}
        return fees_search(filters=filters, ranges=ranges)

    def list(self, request):
        return self.render_page(self.get_queryset(), fee_json)

    def retrieve(self, request, lago_id=None):
        return self.render_one(fee_json(fee_get(lago_id)))

    def update(self, request, lago_id=None):
        fee = fee_get(lago_id)
        return self.render_one(fee_json(fee_update(fee=fee, data=self.root_payload(request))))

    def destroy(self, request, lago_id=None):
        return self.render_one(fee_json(fee_destroy(fee=fee_get(lago_id))))
