"""Coupons deducted from subscription invoices (`coupons_apply`, called at finalization).

The deduction comes after progressive-billing credits and before taxes, metric-limited coupons
first, then plan-limited, then general (oldest first within each), each spread over the fees it
covers so that no fee goes below zero. It reads and writes invoices and fees, so it belongs to
invoicing; the coupons themselves are catalog (plans/coupons/).
"""

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from core.money import from_minor_units, to_minor_units
from invoices.models import Fee, Invoice
from plans.models import AppliedCoupon, Coupon, CouponApplication, CouponFrequency, CouponType

DISCOUNTED_INVOICES = (Invoice.InvoiceType.SUBSCRIPTION, Invoice.InvoiceType.PROGRESSIVE_BILLING)
Active = AppliedCoupon.Status.ACTIVE


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
