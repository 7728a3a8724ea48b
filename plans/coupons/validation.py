"""Coupon rules shared by the API and the admin: what a coupon (or a customer's overrides of its
terms) must satisfy, on the merged, normalised state.

Lago's rules: a coupon is limited to plans or to billable metrics, or general; expiration stops
new applications only; once applied, only name, description and expiration may change.
"""

from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from core.validation import Errors, check_choice, check_code, check_currency, parse_decimal
from plans.models import Coupon, CouponExpiration, CouponFrequency, CouponType

COUPON_FIELDS = (
    "name",
    "code",
    "description",
    "coupon_type",
    "amount_cents",
    "amount_currency",
    "percentage_rate",
    "frequency",
    "frequency_duration",
    "expiration",
    "expiration_at",
    "reusable",
)
LIMIT_FIELDS = ("plans", "billable_metrics")
EDITABLE_WHEN_APPLIED = {"name", "description", "expiration", "expiration_at"}
TERM_FIELDS = ("amount_cents", "amount_currency", "percentage_rate", "frequency")


def _positive_int(value, *, minimum: int) -> str | None:
    if value is None:
        return "value_is_mandatory"
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        return "value_is_invalid"
    return None


def _rate_error(value) -> str | None:
    if value is None:
        return "value_is_mandatory"
    rate = parse_decimal(value)
    return None if rate is not None and 0 < rate <= 100 else "value_is_invalid"


def coupon_terms_errors(terms: dict, coupon_type: str) -> Errors:
    """Amount, rate and frequency rules, shared by coupons and per-customer overrides."""
    errors = Errors()
    if coupon_type == CouponType.FIXED_AMOUNT:
        errors.add("amount_cents", _positive_int(terms.get("amount_cents"), minimum=1))
        errors.add("amount_currency", check_currency(terms.get("amount_currency")))
    elif coupon_type == CouponType.PERCENTAGE:
        errors.add("percentage_rate", _rate_error(terms.get("percentage_rate")))
    errors.add("frequency", check_choice(terms.get("frequency"), CouponFrequency.values))
    if terms.get("frequency") == CouponFrequency.RECURRING:
        duration = terms.get("frequency_duration")
        errors.add("frequency_duration", _positive_int(duration, minimum=1))
    return errors


def _expiration_errors(data: dict, instance: Coupon | None) -> Errors:
    errors = Errors()
    errors.add("expiration", check_choice(data.get("expiration"), CouponExpiration.values))
    if data.get("expiration") != CouponExpiration.TIME_LIMIT:
        return errors
    moment = data.get("expiration_at")
    if moment is None:
        errors.add("expiration_at", "value_is_mandatory")
    elif not isinstance(moment, datetime) or timezone.is_naive(moment):
        errors.add("expiration_at", "invalid_format")
    elif moment < timezone.now() and (instance is None or moment != instance.expiration_at):
        errors.add("expiration_at", "invalid_date")
    return errors


def _locked_errors(data: dict, instance: Coupon) -> Errors:
    """Once a customer has the coupon, only its name, description and expiration change."""
    errors = Errors()
    if not instance.applied_coupons.exists():
        return errors
    current = coupon_state(instance)
    for field in (*COUPON_FIELDS, *LIMIT_FIELDS):
        if field not in EDITABLE_WHEN_APPLIED and _key(data.get(field)) != _key(current[field]):
            errors.add(field, "cannot_change_when_applied")
    return errors


def _key(value):
    """Comparable form of a field value (limitations compare as sets of ids)."""
    if isinstance(value, list | tuple | QuerySet):
        return frozenset(item.pk for item in value)
    return value


def coupon_errors(data: dict, *, instance: Coupon | None = None) -> Errors:
    """Every rule a coupon must satisfy, on the merged, normalised state (instance + changes);
    `plans` and `billable_metrics` are lists of model instances."""
    errors = Errors()
    errors.add("name", None if data.get("name") else "value_is_mandatory")
    errors.add("code", check_code(data.get("code")))
    errors.add("coupon_type", check_choice(data.get("coupon_type"), CouponType.values))
    errors.merge(coupon_terms_errors(data, data.get("coupon_type")))
    errors.merge(_expiration_errors(data, instance))
    if not isinstance(data.get("reusable", True), bool):
        errors.add("reusable", "value_is_invalid")
    if data.get("plans") and data.get("billable_metrics"):
        errors.add("applies_to", "only_one_limitation_type_per_coupon_allowed")
    taken = Coupon.objects.live().filter(code=data.get("code"))
    if instance is not None:
        taken = taken.exclude(pk=instance.pk)
        errors.merge(_locked_errors(data, instance))
    if data.get("code") and taken.exists():
        errors.add("code", "value_already_exist")
    return errors


def coupon_normalise(data: dict) -> dict:
    """Drop the fields the coupon's type, frequency and expiration make meaningless."""
    data = dict(data)
    if data.get("coupon_type") == CouponType.PERCENTAGE:
        data["amount_cents"], data["amount_currency"] = None, ""
    elif data.get("coupon_type") == CouponType.FIXED_AMOUNT:
        data["percentage_rate"] = None
    if data.get("frequency") != CouponFrequency.RECURRING:
        data["frequency_duration"] = None
    if data.get("expiration") != CouponExpiration.TIME_LIMIT:
        data["expiration_at"] = None
    if isinstance(data.get("amount_currency"), str):
        data["amount_currency"] = data["amount_currency"].upper()
    rate = parse_decimal(data.get("percentage_rate"))
    if rate is not None:
        data["percentage_rate"] = rate
    if data.get("description") is None:
        data["description"] = ""
    return data


def coupon_state(coupon: Coupon) -> dict:
    """The coupon's fields and limitations as coupon_errors expects them."""
    state = {field: getattr(coupon, field) for field in COUPON_FIELDS}
    state["plans"] = list(coupon.plans.all())
    state["billable_metrics"] = list(coupon.billable_metrics.all())
    return state
