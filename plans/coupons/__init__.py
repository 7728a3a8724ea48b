"""Coupons in the catalog, split by verb: reads (selectors), rules (validation), writes
(services). Applying a coupon to a customer is customers/applied_coupons.py; deducting it from
invoices is invoices/services/coupons.py (both higher layers)."""

from plans.coupons.selectors import (
    applied_coupon_used_cents,
    applied_coupons_list,
    coupon_get,
    coupons_list,
)
from plans.coupons.services import (
    applied_coupon_terminate,
    coupon_create,
    coupon_delete,
    coupon_terminate,
    coupon_update,
)
from plans.coupons.validation import (
    COUPON_FIELDS,
    EDITABLE_WHEN_APPLIED,
    LIMIT_FIELDS,
    TERM_FIELDS,
    coupon_errors,
    coupon_normalise,
    coupon_state,
    coupon_terms_errors,
)

__all__ = [
    "COUPON_FIELDS",
    "EDITABLE_WHEN_APPLIED",
    "LIMIT_FIELDS",
    "TERM_FIELDS",
    "applied_coupon_terminate",
    "applied_coupon_used_cents",
    "applied_coupons_list",
    "coupon_create",
    "coupon_delete",
    "coupon_errors",
    "coupon_get",
    "coupon_normalise",
    "coupon_state",
    "coupon_terminate",
    "coupon_terms_errors",
    "coupon_update",
    "coupons_list",
]
