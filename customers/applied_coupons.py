"""Coupons applied to customers: giving a coupon to a customer (Lago's POST /applied_coupons)
and finding one of a customer's applied coupons.

This lives with customers, not the catalog, because it looks customers up and locks the
customer row (the lock serialises the "not reusable" check); the catalog (plans) may not
import customers.
"""

import uuid

from django.db import transaction
from django.utils import timezone

from core.errors import NotFound, ValidationFailed
from core.validation import Errors, check_code
from customers.models import Customer
from plans.coupons import TERM_FIELDS, coupon_normalise, coupon_terms_errors
from plans.models import AppliedCoupon, Coupon, CouponExpiration, CouponType


def applied_coupon_get(*, external_customer_id: str, lago_id: str) -> AppliedCoupon:
    """One coupon applied to a customer; 404 customer_not_found / applied_coupon_not_found."""
    customer = Customer.objects.live().filter(external_id=external_customer_id).first()
    if customer is None:
        raise NotFound("customer")
    applied = None
    if _is_uuid(lago_id):
        rows = AppliedCoupon.objects.select_related("coupon", "customer")
        applied = rows.filter(customer=customer, lago_id=lago_id).first()
    if applied is None:
        raise NotFound("applied_coupon")
    return applied


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _terms(coupon: Coupon, overrides: dict) -> dict:
    """The coupon's terms with the per-customer overrides that fit its type."""
    terms = {field: getattr(coupon, field) for field in (*TERM_FIELDS, "frequency_duration")}
    terms.update({key: value for key, value in overrides.items() if key in terms})
    return coupon_normalise({"coupon_type": coupon.coupon_type, **terms})


def _apply_errors(coupon: Coupon, customer: Customer, terms: dict) -> Errors:
    errors = coupon_terms_errors(terms, coupon.coupon_type)
    expires = coupon.expiration_at
    if coupon.expiration == CouponExpiration.TIME_LIMIT and expires and expires <= timezone.now():
        errors.add("coupon", "expired")
    if not coupon.reusable and coupon.applied_coupons.filter(customer=customer).exists():
        errors.add("coupon", "coupon_is_not_reusable")
    fixed = coupon.coupon_type == CouponType.FIXED_AMOUNT
    if fixed and customer.currency and terms.get("amount_currency") != customer.currency:
        errors.add("currency", "currencies_does_not_match")
    return errors


def _locked_target(data: dict) -> tuple[Customer, Coupon]:
    errors = Errors()
    errors.add("external_customer_id", check_code(data.get("external_customer_id")))
    errors.add("coupon_code", check_code(data.get("coupon_code")))
    if errors:
        raise ValidationFailed(errors)
    customer = (
        Customer.objects.live().select_for_update().filter(external_id=data["external_customer_id"])
    )
    customer = customer.first()
    if customer is None:
        raise NotFound("customer")
    coupon = Coupon.objects.live().select_for_update().filter(code=data["coupon_code"])
    coupon = coupon.filter(terminated_at__isnull=True).first()
    if coupon is None:
        raise NotFound("coupon")
    return customer, coupon


@transaction.atomic
def applied_coupon_create(*, data: dict) -> AppliedCoupon:
    """Give a coupon to a customer (Lago's POST /applied_coupons) with optional overrides of
    amount_cents, amount_currency, percentage_rate, frequency and frequency_duration."""
    data = {key: value for key, value in data.items() if value is not None}
    customer, coupon = _locked_target(data)  # the customer lock serialises the reuse check
    terms = _terms(coupon, data)
    errors = _apply_errors(coupon, customer, terms)
    if errors:
        raise ValidationFailed(errors)
    fixed_once = coupon.coupon_type == CouponType.FIXED_AMOUNT and terms["frequency"] == "once"
    return AppliedCoupon.objects.create(
        coupon=coupon,
        customer=customer,
        amount_cents=terms["amount_cents"],
        amount_currency=terms["amount_currency"] or "",
        percentage_rate=terms["percentage_rate"],
        frequency=terms["frequency"],
        frequency_duration=terms["frequency_duration"],
        amount_cents_remaining=terms["amount_cents"] if fixed_once else None,
        frequency_duration_remaining=terms["frequency_duration"],
    )
