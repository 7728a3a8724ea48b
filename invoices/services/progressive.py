"""Progressive billing: when a subscription's lifetime usage (Lago: usage invoiced in earlier
periods plus the current period's) crosses one of its plan's usage thresholds, invoice the
current period's usage so far at once; the period-end invoice then deducts what progressive
invoices already billed. A threshold is billed at most once in a subscription's life (a
recurring one once per step), enforced by a unique constraint; a threshold that usage already
invoiced at a period end passed is not billed again."""

import json
from collections import defaultdict
from datetime import datetime
from fractions import Fraction

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from customers.models import Subscription
from invoices.models import (
    AppliedUsageThreshold,
    Fee,
    Invoice,
    InvoiceSubscription,
    LifetimeUsage,
)
from invoices.services.close import billing_invoice_create
from invoices.services.deltas import unbilled_usage_fees
from invoices.services.fees import BillingPlan
from invoices.services.lifecycle import invoice_finalize, notify
from usage.reports import charges_period_bounds, subscription_usage


def crossed_thresholds(thresholds, usage_cents: int) -> list[tuple[object, int]]:
    """(threshold, occurrence) for every step at or below `usage_cents`: each fixed threshold
    once, a recurring one every `amount` after the highest fixed threshold."""
    return [(t, n) for t, n, _ in _steps(thresholds, usage_cents)]


def _steps(thresholds, usage_cents: int) -> list[tuple[object, int, int]]:
    """(threshold, occurrence, amount the step sits at) for every step at or below the usage."""
    fixed = [t for t in thresholds if not t.recurring]
    steps = [(t, 1, t.amount_cents) for t in fixed if usage_cents >= t.amount_cents]
    base = max((t.amount_cents for t in fixed), default=0)
    for threshold in (t for t in thresholds if t.recurring):
        count = (usage_cents - base) // threshold.amount_cents if usage_cents > base else 0
        steps += [(threshold, n, base + n * threshold.amount_cents) for n in range(1, count + 1)]
    return steps


def invoiced_usage_cents(subscription: Subscription, before: datetime) -> int:
    """Usage (in-arrears charges, before taxes) that period invoices billed for this
    subscription before `before`: the lifetime usage of earlier periods."""
    total = (
        Fee.objects.filter(
            subscription=subscription,
            fee_type=Fee.FeeType.CHARGE,
            pay_in_advance=False,
            invoice__invoice_type=Invoice.InvoiceType.SUBSCRIPTION,
            to_datetime__lte=before,
        )
        .exclude(invoice__status__in=Invoice.NOT_BILLED)
        .aggregate(total=Sum("amount_cents"))["total"]
    )
    return total or 0


def historical_usage_cents(subscription: Subscription) -> int:
    """Usage billed before this system (Lago's historical_usage_amount_cents, set through
    PUT /subscriptions/{id}/lifetime_usage): counted as invoiced at earlier period ends."""
    row = LifetimeUsage.objects.filter(subscription=subscription).first()
    return row.historical_usage_amount_cents if row else 0


def _new_crossings(subscription: Subscription, lower: datetime, period_cents: int) -> list:
    """Steps the lifetime usage reached that no progressive invoice billed and that usage
    invoiced at earlier period ends (or before this system) had not passed already (Lago)."""
    done = set(
        AppliedUsageThreshold.objects.filter(subscription=subscription).values_list(
            "usage_threshold_id", "occurrence"
        )
    )
    earlier = historical_usage_cents(subscription) + invoiced_usage_cents(subscription, lower)
    thresholds = list(subscription.plan.usage_thresholds.all())
    return [
        (t, n)
        for t, n, amount in _steps(thresholds, earlier + period_cents)
        if amount > earlier and (t.pk, n) not in done
    ]


@transaction.atomic
def subscription_check_thresholds(
    *, subscription_id: int, now: datetime | None = None
) -> Invoice | None:
    """Issue a progressive-billing invoice for the period's usage so far if the lifetime usage
    crossed a new threshold."""
    now = now or timezone.now()
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("customer", "plan")
        .get(pk=subscription_id)
    )
    if subscription.status != Subscription.Status.ACTIVE:
        return None
    if not subscription.plan.usage_thresholds.exists():
        return None
    lower, upper = charges_period_bounds(subscription, now)
    lower = max(lower, subscription.started_at)
    usage_cents = subscription_usage(subscription, lower, upper, billable_only=True).amount_cents
    crossings = _new_crossings(subscription, lower, usage_cents)
    if not crossings:
        return None
    fees = unbilled_usage_fees(
        subscription,
        lower,
        upper,
        charges=subscription.plan.charges.live().filter(pay_in_advance=False, invoiceable=True),
        billed_fees=_progressive_fees(subscription, lower),
        pay_in_advance=False,
    )
    if not fees:
        return None
    plan = BillingPlan(
        subscription=subscription,
        boundary=now,
        reason=InvoiceSubscription.Reason.PROGRESSIVE,
        from_datetime=lower,
        to_datetime=upper,
        charges_from=lower,
        charges_to=now,
        fees=fees,
    )
    invoice = billing_invoice_create(plan, now)
    invoice.invoice_type = Invoice.InvoiceType.PROGRESSIVE_BILLING
    invoice.save(update_fields=["invoice_type"])
    try:
        with transaction.atomic():
            for threshold, occurrence in crossings:
                AppliedUsageThreshold.objects.create(
                    subscription=subscription,
                    usage_threshold=threshold,
                    period_from=subscription.started_at,  # once in the subscription's life
                    occurrence=occurrence,
                    invoice=invoice,
                    usage_amount_cents=usage_cents,
                )
    except IntegrityError:
        transaction.set_rollback(True)  # another run billed this threshold first
        return None
    notify(invoice, "invoice.created")
    return invoice_finalize(invoice=invoice, now=now)  # not subject to the grace period


def _progressive_fees(subscription: Subscription, lower: datetime):
    return Fee.objects.filter(
        subscription=subscription,
        invoice__invoice_type=Invoice.InvoiceType.PROGRESSIVE_BILLING,
        from_datetime__gte=lower,
    )


def _credited_fees(invoice: Invoice) -> list[Fee]:
    """The fees of progressive invoices for the usage periods this invoice closes."""
    fees: list[Fee] = []
    for billing in invoice.billings.filter(
        invoicing_reason__in=["subscription_periodic", "subscription_terminating"]
    ):
        fees += (
            _progressive_fees(billing.subscription, billing.charges_from_datetime)
            .filter(from_datetime__lt=billing.charges_to_datetime)
            .exclude(invoice__status__in=Invoice.NOT_BILLED)
        )
    return fees


def progressive_credit_cents(invoice: Invoice) -> int:
    """What progressive invoices already billed of the usage periods this invoice closes."""
    return sum(fee.amount_cents for fee in _credited_fees(invoice))


def _bucket(fee: Fee) -> tuple:
    group = json.dumps(fee.grouped_by or {}, sort_keys=True, default=str)
    return (fee.subscription_id, fee.charge_id, fee.charge_filter_id, group)


def progressive_credit_shares(invoice: Invoice) -> dict[int, int]:
    """The invoice's progressive-billing credit per fee (as Lago): each usage fee is credited
    what progressive invoices billed of its charge, filter and group, up to its amount; a rest
    (usage no longer on this invoice) is shared pro rata over what is left of the fees, by
    largest remainder. Coupons then apply to what is left of each fee, taxes to the rest."""
    fees = list(invoice.fees.order_by("pk"))
    shares = dict.fromkeys((fee.pk for fee in fees), 0)
    credit = invoice.progressive_billing_credit_amount_cents
    if credit <= 0:
        return shares
    billed: dict[tuple, int] = defaultdict(int)
    for fee in _credited_fees(invoice):
        billed[_bucket(fee)] += fee.amount_cents
    for fee in fees:
        if fee.charge_id and not (fee.amount_details or {}).get("true_up"):
            take = min(billed[_bucket(fee)], fee.amount_cents, credit - sum(shares.values()))
            shares[fee.pk], billed[_bucket(fee)] = take, billed[_bucket(fee)] - take
    rest = credit - sum(shares.values())
    left = {fee.pk: fee.amount_cents - shares[fee.pk] for fee in fees}
    weight = sum(left.values())
    if rest <= 0 or weight <= 0:
        return shares
    exact = {pk: Fraction(rest * value, weight) for pk, value in left.items()}
    parts = {pk: int(value) for pk, value in exact.items()}
    by_remainder = sorted(exact, key=lambda pk: (parts[pk] - exact[pk], pk))
    for pk in by_remainder[: rest - sum(parts.values())]:
        parts[pk] += 1
    return {pk: shares[pk] + parts[pk] for pk in shares}
