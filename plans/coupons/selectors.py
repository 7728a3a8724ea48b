"""Coupon reads: the catalog's coupons and the coupons applied to customers (API filters)."""

from django.db.models import QuerySet, Sum

from core.errors import NotFound
from plans.models import AppliedCoupon, Coupon


def coupon_get(*, code: str) -> Coupon:
    """A live coupon by code, else 404 coupon_not_found."""
    coupon = (
        Coupon.objects.live()
        .filter(code=code)
        .prefetch_related("plans", "billable_metrics")
        .first()
    )
    if coupon is None:
        raise NotFound("coupon")
    return coupon


def coupons_list() -> QuerySet:
    """Live coupons, newest first, with their limitations."""
    return (
        Coupon.objects.live()
        .prefetch_related("plans", "billable_metrics")
        .order_by("-created_at", "-id")
    )


def applied_coupons_list(
    *,
    external_customer_id: str | None = None,
    status: str | None = None,
    coupon_codes: list[str] | None = None,
) -> QuerySet:
    """Lago's GET /applied_coupons filters; every status unless one is asked."""
    rows = AppliedCoupon.objects.select_related("coupon", "customer").order_by("-created_at", "-id")
    if external_customer_id:
        rows = rows.filter(customer__external_id=external_customer_id, customer__deleted_at=None)
    if status:
        rows = rows.filter(status=status)
    if coupon_codes:
        rows = rows.filter(coupon__code__in=coupon_codes)
    return rows


def applied_coupon_used_cents(*, applied_coupon: AppliedCoupon) -> int:
    """What the applied coupon has deducted so far, over every invoice."""
    total = applied_coupon.applications.aggregate(total=Sum("amount_cents"))["total"]
    return total or 0
