"""REST API v1 for coupons (id = code), and the applied coupon's JSON (Lago wire format).

The applied coupons' endpoints look customers up, so they live in customers/api_coupons.py.
"""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_view

from core.api.formats import iso
from core.api.viewsets import LagoViewSet
from plans.coupons import (
    coupon_create,
    coupon_delete,
    coupon_get,
    coupon_update,
    coupons_list,
)
from plans.models import AppliedCoupon, Coupon
from plans.schemas import COUPON_VIEWS


def _rate(value) -> str | None:
    """Lago sends the rate as its decimal column renders: a string ("12.5")."""
    if value is None:
        return None
    text = format(Decimal(value).normalize(), "f")
    return text if "." in text else f"{text}.0"


def coupon_json(coupon: Coupon) -> dict:
    plans = [plan.code for plan in coupon.plans.all()]
    metrics = [metric.code for metric in coupon.billable_metrics.all()]
    return {
        "lago_id": str(coupon.lago_id),
        "name": coupon.name,
        "code": coupon.code,
        "description": coupon.description or None,
        "coupon_type": coupon.coupon_type,
        "amount_cents": coupon.amount_cents,
        "amount_currency": coupon.amount_currency or None,
        "percentage_rate": _rate(coupon.percentage_rate),
        "frequency": coupon.frequency,
        "frequency_duration": coupon.frequency_duration,
        "reusable": coupon.reusable,
        "limited_plans": bool(plans),
        "plan_codes": plans,
        "limited_billable_metrics": bool(metrics),
        "billable_metric_codes": metrics,
        "expiration": coupon.expiration,
        "expiration_at": iso(coupon.expiration_at),
        "terminated_at": iso(coupon.terminated_at),
        "created_at": iso(coupon.created_at),
    }


def applied_coupon_json(applied: AppliedCoupon) -> dict:
    coupon, customer = applied.coupon, applied.customer
    return {
        "lago_id": str(applied.lago_id),
        "lago_coupon_id": str(coupon.lago_id),
        "coupon_code": coupon.code,
        "coupon_name": coupon.name,
        "lago_customer_id": str(customer.lago_id),
        "external_customer_id": customer.external_id,
        "status": applied.status,
        "amount_cents": applied.amount_cents,
        "amount_cents_remaining": applied.amount_cents_remaining,
        "amount_currency": applied.amount_currency or None,
        "percentage_rate": _rate(applied.percentage_rate),
        "frequency": applied.frequency,
        "frequency_duration": applied.frequency_duration,
        "frequency_duration_remaining": applied.frequency_duration_remaining,
        "expiration_at": iso(coupon.expiration_at),
        "created_at": iso(applied.created_at),
        "terminated_at": iso(applied.terminated_at),
        "credits": [],
    }


@extend_schema_view(**COUPON_VIEWS)
class CouponViewSet(LagoViewSet):
    lago_root, lago_plural = "coupon", "coupons"
    lookup_field = "code"

    def get_queryset(self):
        return coupons_list()

    def create(self, request):
        return self.render_one(coupon_json(coupon_create(data=self.root_payload(request))))

    def list(self, request):
        return self.render_page(coupons_list(), coupon_json)

    def retrieve(self, request, code=None):
        return self.render_one(coupon_json(coupon_get(code=code)))

    def update(self, request, code=None):
        coupon = coupon_update(coupon=coupon_get(code=code), data=self.root_payload(request))
        return self.render_one(coupon_json(coupon))

    def destroy(self, request, code=None):
        return self.render_one(coupon_json(coupon_delete(coupon=coupon_get(code=code))))
