"""REST API v1 for coupons applied to customers (Lago's /applied_coupons and
DELETE /customers/{external_id}/applied_coupons/{lago_id}).

These endpoints look customers up (customers/applied_coupons.py), which the catalog may not
import, so they live here; the JSON shape stays the catalog's (plans.api_coupons).
"""

from drf_spectacular.utils import extend_schema_view

from core.api.viewsets import LagoViewSet
from customers.applied_coupons import applied_coupon_create, applied_coupon_get
from plans.api_coupons import applied_coupon_json
from plans.coupons import applied_coupon_terminate, applied_coupons_list
from plans.schemas import APPLIED_COUPON_VIEWS


@extend_schema_view(**APPLIED_COUPON_VIEWS)
class AppliedCouponViewSet(LagoViewSet):
    lago_root, lago_plural = "applied_coupon", "applied_coupons"

    def get_queryset(self):
        return applied_coupons_list()

    def create(self, request):
        applied = applied_coupon_create(data=self.root_payload(request))
        return self.render_one(applied_coupon_json(applied))

    def list(self, request):
        return applied_coupons_page(self, request, request.query_params.get("external_customer_id"))


def applied_coupons_page(viewset, request, external_customer_id: str | None):
    """A page of applied coupons filtered as Lago's index (status, coupon_code[]), for
    GET /applied_coupons and GET /customers/{id}/applied_coupons alike."""
    params = request.query_params
    rows = applied_coupons_list(
        external_customer_id=external_customer_id,
        status=params.get("status"),
        coupon_codes=params.getlist("coupon_code[]") or params.getlist("coupon_code"),
    )
    return viewset.render_page(rows, applied_coupon_json, plural="applied_coupons")


def applied_coupon_destroy_view(viewset, request, external_id: str, applied_coupon_id: str):
    """DELETE customers/{external_id}/applied_coupons/{lago_id}: terminate it (a customers
    viewset action calls this)."""
    applied = applied_coupon_get(external_customer_id=external_id, lago_id=applied_coupon_id)
    applied = applied_coupon_terminate(applied_coupon=applied)
    return viewset.render_one(applied_coupon_json(applied), root="applied_coupon")
