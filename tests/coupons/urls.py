"""The site's URLs plus the coupon APIs and DELETE customers/{id}/applied_coupons/{id}, as the
site will wire them (api_urls.py and a CustomerViewSet action)."""

from django.urls import include, path
from rest_framework.decorators import action
from rest_framework.routers import SimpleRouter

from billing_site.urls import urlpatterns as site_urlpatterns
from customers.api import CustomerViewSet
from customers.api_coupons import AppliedCouponViewSet, applied_coupon_destroy_view
from plans.api_coupons import CouponViewSet


class CustomerWithCouponsViewSet(CustomerViewSet):
    """CustomerViewSet with the applied-coupon removal action."""

    @action(
        detail=True,
        methods=["delete"],
        url_path=r"applied_coupons/(?P<applied_coupon_id>[^/]+)",
    )
    def applied_coupon_destroy(self, request, external_id=None, applied_coupon_id=None):
        return applied_coupon_destroy_view(self, request, external_id, applied_coupon_id)


router = SimpleRouter(trailing_slash=False)
router.register("coupons", CouponViewSet, basename="coupon")
router.register("applied_coupons", AppliedCouponViewSet, basename="applied_coupon")
router.register("customers", CustomerWithCouponsViewSet, basename="customer")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("", include(site_urlpatterns)),
]
