"""Coupon writes: create, update, terminate, delete; ending a coupon a customer has.

Giving a coupon to a customer locks the customer, so it lives with customers
(customers/applied_coupons.py); the deduction from invoices lives with invoicing
(invoices/services/coupons.py).
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import NotFound, ValidationFailed
from core.locks import lock_one
from core.validation import parse_moment
from plans.coupons.validation import (
    COUPON_FIELDS,
    LIMIT_FIELDS,
    coupon_errors,
    coupon_normalise,
    coupon_state,
)
from plans.models import (
    AppliedCoupon,
    BillableMetric,
    Coupon,
    CouponExpiration,
    CouponFrequency,
    Plan,
)

Active = AppliedCoupon.Status.ACTIVE


def _resolve_limits(applies_to) -> dict:
    """Lago's applies_to {plan_codes, billable_metric_codes} → catalog plans / live metrics."""
    if applies_to is None:
        return {}
    if not isinstance(applies_to, dict):
        raise ValidationFailed({"applies_to": ["invalid_format"]})
    limits: dict = {}
    for key, model, field, resource in (
        ("plan_codes", Plan, "plans", "plan"),
        ("billable_metric_codes", BillableMetric, "billable_metrics", "billable_metric"),
    ):
        codes = applies_to.get(key)
        if codes is None:
            continue
        if not isinstance(codes, list) or not all(isinstance(code, str) for code in codes):
            raise ValidationFailed({f"applies_to.{key}": ["invalid_format"]})
        rows = model.objects.live().filter(code__in=set(codes))
        rows = list(rows.filter(parent__isnull=True) if model is Plan else rows)
        if len(rows) != len(set(codes)):
            raise NotFound(resource)
        limits[field] = rows
    return limits


def _parse_expiration_at(value):
    """ISO 8601 string → aware datetime; a bad value is kept for validation to report."""
    if isinstance(value, str):
        return parse_moment(value) or value
    return value


def _from_api(data: dict) -> dict:
    """Lago's request fields (null = absent) → the flat shape coupon_errors checks."""
    flat = {key: value for key, value in data.items() if key in COUPON_FIELDS and value is not None}
    if "expiration_at" in flat:
        flat["expiration_at"] = _parse_expiration_at(flat["expiration_at"])
    return {**flat, **_resolve_limits(data.get("applies_to"))}


def _save(coupon: Coupon, data: dict) -> Coupon:
    """Write validated fields and limitations."""
    for field in COUPON_FIELDS:
        if field in data:
            setattr(coupon, field, data[field])
    try:
        with transaction.atomic():
            coupon.save()
    except IntegrityError as exc:  # a concurrent create with the same code
        raise ValidationFailed({"code": ["value_already_exist"]}) from exc
    for field in LIMIT_FIELDS:
        if field in data:
            getattr(coupon, field).set(data[field])
    return coupon


@transaction.atomic
def coupon_create(*, data: dict) -> Coupon:
    """Create a coupon from Lago's fields (name, code, coupon_type, amounts, applies_to, ...)."""
    defaults = {"frequency": CouponFrequency.ONCE, "expiration": CouponExpiration.NO_EXPIRATION}
    flat = coupon_normalise({**defaults, **_from_api(data)})
    errors = coupon_errors(flat)
    if errors:
        raise ValidationFailed(errors)
    return _save(Coupon(), flat)


@transaction.atomic
def coupon_update(*, coupon: Coupon, data: dict) -> Coupon:
    """Partial update; once applied to a customer only name, description and expiration."""
    coupon = lock_one(Coupon, coupon.pk)
    if coupon.terminated_at is not None:
        raise NotFound("coupon")
    merged = coupon_normalise({**coupon_state(coupon), **_from_api(data)})
    errors = coupon_errors(merged, instance=coupon)
    if errors:
        raise ValidationFailed(errors)
    return _save(coupon, merged)


@transaction.atomic
def coupon_terminate(*, coupon: Coupon) -> Coupon:
    """No new applications from now; customers who have it keep it until it runs out."""
    coupon = lock_one(Coupon, coupon.pk)
    if coupon.terminated_at is None:
        coupon.terminated_at = timezone.now()
        coupon.save(update_fields=["terminated_at", "updated_at"])
    return coupon


@transaction.atomic
def coupon_delete(*, coupon: Coupon) -> Coupon:
    """Lago's DELETE /coupons/{code}: terminate, soft delete (the code is free again) and end
    the coupon for the customers who still have it."""
    coupon = coupon_terminate(coupon=coupon)
    if coupon.deleted_at is None:
        coupon.deleted_at = timezone.now()
        coupon.save(update_fields=["deleted_at", "updated_at"])
    for applied in coupon.applied_coupons.filter(status=Active).order_by("pk"):
        applied_coupon_terminate(applied_coupon=applied)
    return coupon


@transaction.atomic
def applied_coupon_terminate(*, applied_coupon: AppliedCoupon) -> AppliedCoupon:
    """Stop deducting this coupon from the customer's next invoices (past ones keep theirs)."""
    applied = lock_one(AppliedCoupon, applied_coupon.pk)
    if applied.status == Active:
        applied.status, applied.terminated_at = AppliedCoupon.Status.TERMINATED, timezone.now()
        applied.save(update_fields=["status", "terminated_at", "updated_at"])
    return applied
