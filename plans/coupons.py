"""Coupons: the catalog (create, update, terminate, delete), coupons applied to customers, and
their deduction from subscription invoices (`coupons_apply`, called at finalization).

Lago's rules: a coupon is limited to plans or to billable metrics, or general; expiration stops
new applications only; once applied, only name, description and expiration may change. The
deduction comes after progressive-billing credits and before taxes, metric-limited coupons
first, then plan-limited, then general (oldest first within each), each spread over the fees it
covers so that no fee goes below zero.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction

from django.db import IntegrityError, transaction
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.errors import NotFound, ValidationFailed
from core.money import from_minor_units, to_minor_units
from core.validation import Errors, check_choice, check_code, check_currency, parse_decimal
from customers.models import Customer
from invoices.models import Fee, Invoice
from plans.models import (
    AppliedCoupon,
    BillableMetric,
    Coupon,
    CouponApplication,
    CouponExpiration,
    CouponFrequency,
    CouponType,
    Plan,
)

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
DISCOUNTED_INVOICES = (Invoice.InvoiceType.SUBSCRIPTION, Invoice.InvoiceType.PROGRESSIVE_BILLING)
Active = AppliedCoupon.Status.ACTIVE


# --- selectors -------------------------------------------------------------------------------


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


def applied_coupon_used_cents(*, applied_coupon: AppliedCoupon) -> int:
    """What the applied coupon has deducted so far, over every invoice."""
    total = applied_coupon.applications.aggregate(total=Sum("amount_cents"))["total"]
    return total or 0


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- catalog rules ---------------------------------------------------------------------------


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


def _terms_errors(terms: dict, coupon_type: str) -> Errors:
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
    errors.merge(_terms_errors(data, data.get("coupon_type")))
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


# --- catalog writes --------------------------------------------------------------------------


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
    """ISO 8601 string → aware datetime; a bad value is kept for validation to report
    (parse_datetime raises on a well-formed impossible one, e.g. month 13 or minute 75)."""
    if not isinstance(value, str):
        return value
    try:
        return parse_datetime(value) or value
    except ValueError:
        return value


def _from_api(data: dict) -> dict:
    """Lago's request fields (null = absent) → the flat shape coupon_errors checks."""
    flat = {key: value for key, value in data.items() if key in COUPON_FIELDS and value is not None}
    if "expiration_at" in flat:
        flat["expiration_at"] = _parse_expiration_at(flat["expiration_at"])
    return {**flat, **_resolve_limits(data.get("applies_to"))}


def coupon_state(coupon: Coupon) -> dict:
    """The coupon's fields and limitations as coupon_errors expects them."""
    state = {field: getattr(coupon, field) for field in COUPON_FIELDS}
    state["plans"] = list(coupon.plans.all())
    state["billable_metrics"] = list(coupon.billable_metrics.all())
    return state


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
    coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
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
    coupon = Coupon.objects.select_for_update().get(pk=coupon.pk)
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


# --- applying to customers -------------------------------------------------------------------


def _terms(coupon: Coupon, overrides: dict) -> dict:
    """The coupon's terms with the per-customer overrides that fit its type."""
    terms = {field: getattr(coupon, field) for field in (*TERM_FIELDS, "frequency_duration")}
    terms.update({key: value for key, value in overrides.items() if key in terms})
    return coupon_normalise({"coupon_type": coupon.coupon_type, **terms})


def _apply_errors(coupon: Coupon, customer: Customer, terms: dict) -> Errors:
    errors = _terms_errors(terms, coupon.coupon_type)
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


@transaction.atomic
def applied_coupon_terminate(*, applied_coupon: AppliedCoupon) -> AppliedCoupon:
    """Stop deducting this coupon from the customer's next invoices (past ones keep theirs)."""
    applied = AppliedCoupon.objects.select_for_update().get(pk=applied_coupon.pk)
    if applied.status == Active:
        applied.status, applied.terminated_at = AppliedCoupon.Status.TERMINATED, timezone.now()
        applied.save(update_fields=["status", "terminated_at", "updated_at"])
    return applied


# --- deduction from invoices -----------------------------------------------------------------


@dataclass(frozen=True)
class _Limits:
    """What a coupon covers: fees of these metrics, else of these catalog plans, else all."""

    metric_ids: frozenset[int]
    plan_ids: frozenset[int]

    @property
    def rank(self) -> int:
        return 0 if self.metric_ids else 1 if self.plan_ids else 2

    def covers(self, fee: Fee) -> bool:
        if self.metric_ids:
            return fee.charge is not None and fee.charge.billable_metric_id in self.metric_ids
        if self.plan_ids:
            plan = fee.subscription.plan if fee.subscription else None
            return plan is not None and (plan.parent_id or plan.pk) in self.plan_ids
        return True


def _limits(coupon_ids: set[int]) -> dict[int, _Limits]:
    metrics: dict[int, set] = {pk: set() for pk in coupon_ids}
    plans: dict[int, set] = {pk: set() for pk in coupon_ids}
    for coupon_id, metric_id in Coupon.billable_metrics.through.objects.filter(
        coupon_id__in=coupon_ids
    ).values_list("coupon_id", "billablemetric_id"):
        metrics[coupon_id].add(metric_id)
    for coupon_id, plan_id in Coupon.plans.through.objects.filter(
        coupon_id__in=coupon_ids
    ).values_list("coupon_id", "plan_id"):
        plans[coupon_id].add(plan_id)
    return {pk: _Limits(frozenset(metrics[pk]), frozenset(plans[pk])) for pk in coupon_ids}


def _locked_active(customer_id: int) -> list[tuple[AppliedCoupon, _Limits]]:
    """The customer's active coupons, locked, in Lago's order: metric-limited, plan-limited,
    general; oldest first within each."""
    rows = list(
        AppliedCoupon.objects.select_for_update(of=("self",))
        .select_related("coupon")
        .filter(customer_id=customer_id, status=Active)
        .order_by("pk")
    )
    limits = _limits({row.coupon_id for row in rows})
    rows.sort(key=lambda row: (limits[row.coupon_id].rank, row.created_at, row.pk))
    return [(row, limits[row.coupon_id]) for row in rows]


def _deduction(applied: AppliedCoupon, base: int, currency: str) -> int:
    """What the coupon takes from `base` minor units of covered fees (never more)."""
    if applied.coupon.coupon_type == CouponType.FIXED_AMOUNT:
        once = applied.frequency == CouponFrequency.ONCE
        amount = applied.amount_cents_remaining if once else applied.amount_cents
    else:
        share = from_minor_units(base, currency) * applied.percentage_rate / 100
        amount = to_minor_units(share, currency)
    return max(0, min(amount or 0, base))


def _spread(amount: int, fees: list[Fee], left: dict[int, int]) -> None:
    """Split `amount` over `fees` pro rata to what is left of each, by largest remainder, so
    the parts sum exactly to it and none exceeds its fee."""
    weight = sum(left[fee.pk] for fee in fees)
    exact = [Fraction(amount * left[fee.pk], weight) for fee in fees]
    parts = [int(value) for value in exact]
    by_remainder = sorted(range(len(fees)), key=lambda i: (parts[i] - exact[i], i))
    for i in by_remainder[: amount - sum(parts)]:
        parts[i] += 1
    for fee, part, value in zip(fees, parts, exact, strict=True):
        fee.coupons_amount_cents += part
        precise = Decimal(value.numerator) / Decimal(value.denominator)
        fee.precise_coupons_amount_cents = Decimal(fee.precise_coupons_amount_cents) + precise
        fee.save(update_fields=["coupons_amount_cents", "precise_coupons_amount_cents"])
        left[fee.pk] -= part


def _consume(applied: AppliedCoupon, amount: int) -> None:
    """Once: used up (fixed: when nothing is left); recurring: one period less; forever: no."""
    ended = False
    if applied.frequency == CouponFrequency.ONCE:
        if applied.amount_cents_remaining is not None:
            applied.amount_cents_remaining -= amount
        ended = not applied.amount_cents_remaining
    elif applied.frequency == CouponFrequency.RECURRING:
        remaining = (applied.frequency_duration_remaining or 1) - 1
        applied.frequency_duration_remaining, ended = remaining, remaining <= 0
    if ended:
        applied.status, applied.terminated_at = AppliedCoupon.Status.TERMINATED, timezone.now()
    applied.save()


def _apply_one(
    applied: AppliedCoupon, limits: _Limits, invoice: Invoice, fees: list[Fee], left: dict, cap: int
) -> int:
    is_fixed = applied.coupon.coupon_type == CouponType.FIXED_AMOUNT
    if is_fixed and applied.amount_currency != invoice.currency:
        return 0  # same currency only
    covered = [fee for fee in fees if left[fee.pk] > 0 and limits.covers(fee)]
    base = min(sum(left[fee.pk] for fee in covered), cap)
    if base <= 0:
        return 0  # nothing to discount: the coupon is not used up on this invoice
    amount = _deduction(applied, base, invoice.currency)
    _spread(amount, covered, left)
    CouponApplication.objects.create(applied_coupon=applied, invoice=invoice, amount_cents=amount)
    _consume(applied, amount)
    return amount


def _applied_total(invoice: Invoice) -> int | None:
    rows = CouponApplication.objects.filter(invoice=invoice)
    return rows.aggregate(total=Sum("amount_cents"))["total"] if rows.exists() else None


@transaction.atomic
def coupons_apply(*, invoice: Invoice, credited: dict[int, int] | None = None) -> int:
    """Deduct the customer's active coupons from a draft subscription invoice, once: spread
    over its fees' coupon shares, recorded as CouponApplication rows. `credited` is the
    progressive-billing credit per fee (the invoicing caller's; Lago's order is fees →
    progressive credit → coupons), so coupons apply to what it leaves. Sets (without saving)
    invoice.coupons_amount_cents and returns it; totals are the caller's."""
    if invoice.invoice_type not in DISCOUNTED_INVOICES:
        return 0
    coupons = _locked_active(invoice.customer_id)
    done = _applied_total(invoice)
    if done is not None or invoice.status != Invoice.Status.DRAFT:
        invoice.coupons_amount_cents = done or 0
        return invoice.coupons_amount_cents
    fees = list(invoice.fees.select_related("charge", "subscription__plan").order_by("pk"))
    credited = credited or {}
    left = {
        fee.pk: max(fee.amount_cents - credited.get(fee.pk, 0) - fee.coupons_amount_cents, 0)
        for fee in fees
    }
    cap = sum(left.values())
    total = 0
    for applied, limits in coupons:
        total += _apply_one(applied, limits, invoice, fees, left, cap - total)
    invoice.coupons_amount_cents = total
    return total
