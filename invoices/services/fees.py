"""What an invoice bills for one subscription at one boundary: base fee (in advance or arrears,
prorated by days, trial days free), usage charges of the period, spending minimums and the
minimum commitment true-up. Computes fee lines; writes nothing (used by close, refresh, preview).
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from django.db.models import Max, Sum

from core.money import from_minor_units, to_minor_units
from customers.models import Subscription
from customers.selectors import (
    subscription_currency,
    subscription_fixed_charges,
    subscription_handed_over,
    subscription_last_day,
)
from invoices.amount_details import charge_amount_details
from invoices.models import Fee, Invoice, InvoiceSubscription
from invoices.schedule import Schedule
from plans import pricing
from plans.models import Plan
from plans.price_lists import PriceList, price_list
from usage.reports import ChargeUsage, FeeLine, subscription_usage

Reason = InvoiceSubscription.Reason
ZERO = Decimal(0)


@dataclass
class FeeSpec:
    """A fee line before it is saved."""

    fee_type: str
    amount_cents: int
    precise_amount: Decimal  # major units, full precision
    units: Decimal = Decimal(1)
    precise_unit_amount: Decimal = ZERO
    description: str = ""
    invoice_display_name: str = ""
    from_datetime: datetime | None = None
    to_datetime: datetime | None = None
    charge: object = None
    charge_filter: object = None
    grouped_by: dict = field(default_factory=dict)
    total_aggregated_units: Decimal = ZERO
    events_count: int = 0
    amount_details: dict = field(default_factory=dict)
    pay_in_advance: bool = False
    true_up_of: "FeeSpec | None" = None
    fixed_charge: object = None


@dataclass
class BillingPlan:
    """Everything one (subscription, boundary) billing produces."""

    subscription: Subscription
    boundary: datetime
    reason: str
    from_datetime: datetime
    to_datetime: datetime
    charges_from: datetime
    charges_to: datetime
    fees: list[FeeSpec]
    fx_details: dict = field(default_factory=dict)  # set when converting from the plan currency

    @property
    def amount_cents(self) -> int:
        return sum(fee.amount_cents for fee in self.fees)


def _fraction_amount(amount_cents: int, fraction: Fraction, currency: str) -> Decimal:
    """A minor-unit amount times an exact fraction, as a precise major-unit Decimal."""
    return from_minor_units(amount_cents, currency) * fraction.numerator / fraction.denominator


def _trial_end_day(subscription: Subscription, schedule: Schedule) -> date | None:
    """First billable day after the trial; trials apply to the first plan of a history only."""
    plan = subscription.plan
    if not plan.trial_period or subscription.previous_subscription_id:
        return None
    start = schedule.day(subscription.started_at)
    return start + timedelta(days=math.ceil(plan.trial_period))


def _first_billable_day(subscription: Subscription, schedule: Schedule) -> date:
    start = schedule.day(subscription.started_at)
    trial_end = _trial_end_day(subscription, schedule)
    return max(start, trial_end) if trial_end else start


@dataclass(frozen=True)
class Coverage:
    """What earlier invoices already billed of one subscription: the last local day its base
    fee paid for, and the instant up to which a period billing invoiced its usage. Billing
    starts after both, so no day and no event is invoiced twice, whatever the order in which
    closes, terminations and plan changes happen."""

    base_until: date | None = None
    usage_until: datetime | None = None


def covered_days(fee: Fee, schedule: Schedule) -> tuple[date, date]:
    """The local days [first, last] a base fee paid for (recorded on the fee since the rule
    exists; older fees paid from their from_datetime to the end of their period)."""
    details = fee.amount_details or {}
    if details.get("from_date") and details.get("to_date"):
        return date.fromisoformat(details["from_date"]), date.fromisoformat(details["to_date"])
    return schedule.day(fee.from_datetime), schedule.last_day_before(fee.to_datetime)


def base_fees_billed(subscription: Subscription, before_invoice_id: int | None = None):
    """Base fees of a subscription on invoices that count (not voided), oldest first; with
    `before_invoice_id`, only those of invoices created before that one."""
    fees = Fee.objects.filter(subscription=subscription, fee_type=Fee.FeeType.SUBSCRIPTION)
    fees = fees.exclude(invoice__status__in=Invoice.NOT_BILLED)
    if before_invoice_id is not None:
        fees = fees.filter(invoice_id__lt=before_invoice_id)
    return fees.select_related("invoice").order_by("invoice_id", "id")


def coverage(
    subscription: Subscription, schedule: Schedule, before_invoice_id: int | None = None
) -> Coverage:
    """What invoices created before `before_invoice_id` (all, when None) billed already. A
    draft refreshed at finalization is measured against the invoices made before it, so a
    later invoice never takes its days away."""
    fees = base_fees_billed(subscription, before_invoice_id)
    base_until = max((covered_days(fee, schedule)[1] for fee in fees), default=None)
    billings = InvoiceSubscription.objects.filter(
        subscription=subscription, invoicing_reason__in=[Reason.PERIODIC, Reason.TERMINATING]
    ).exclude(invoice__status__in=Invoice.NOT_BILLED)
    if before_invoice_id is not None:
        billings = billings.filter(invoice_id__lt=before_invoice_id)
    usage_until = billings.aggregate(until=Max("charges_to_datetime"))["until"]
    return Coverage(base_until=base_until, usage_until=usage_until)


def successor_took_over(subscription: Subscription) -> bool:
    """A new plan started at the instant this subscription ended (see customers.selectors)."""
    return subscription_handed_over(subscription)


def last_used_day(subscription: Subscription, schedule: Schedule) -> date | None:
    """The last local day a terminated subscription is billed for (None while it runs)."""
    return subscription_last_day(subscription, schedule.tz)


def _day_after(day: date | None) -> date | None:
    return day + timedelta(days=1) if day else None


def _base_fee(
    subscription: Subscription,
    schedule: Schedule,
    period,
    days: tuple[date | None, date],
    advance: bool,
    prices: PriceList,
) -> FeeSpec | None:
    """The plan's base fee for `period` in the billing currency, prorated to the days from
    max(first billable day, days[0]) to days[1]. None when nothing is due (zero fee, all trial,
    or every day billed already)."""
    plan = subscription.plan
    first = _first_billable_day(subscription, schedule)
    first = max(first, days[0]) if days[0] else first
    first, last = max(first, period.start), min(days[1], period.end)
    fraction = schedule.used_fraction(period, first, last)
    if not plan.amount_cents or fraction == 0:
        return None
    precise = prices.base_amount * fraction.numerator / fraction.denominator
    start, end = schedule.bounds(period)
    return FeeSpec(
        fee_type=Fee.FeeType.SUBSCRIPTION,
        amount_cents=to_minor_units(precise, prices.currency),
        precise_amount=precise,
        precise_unit_amount=precise,
        description=plan.catalog_plan.name,
        invoice_display_name=plan.invoice_display_name or plan.catalog_plan.name,
        from_datetime=max(start, subscription.started_at),
        to_datetime=end,
        pay_in_advance=advance,
        amount_details={
            "plan_amount_cents": plan.amount_cents,
            "base_amount": str(prices.base_amount),  # the whole period, billing currency
            "prorata": str(fraction),
            "from_date": first.isoformat(),
            "to_date": last.isoformat(),
            "days": (last - first).days + 1,
            "period_days": period.days,
        },
    )


def fixed_charges_billed_until(
    subscription: Subscription, schedule: Schedule, before_invoice_id: int | None = None
) -> dict[int, date]:
    """The last local day fixed-charge fees of the subscription paid for, per catalog fixed
    charge (the one an override plan copies, else itself); voided invoices excluded, and with
    `before_invoice_id` only invoices created before it."""
    fees = Fee.objects.filter(subscription=subscription, fee_type=Fee.FeeType.FIXED_CHARGE)
    fees = fees.exclude(invoice__status=Invoice.Status.VOIDED)
    if before_invoice_id is not None:
        fees = fees.filter(invoice_id__lt=before_invoice_id)
    until: dict[int, date] = {}
    for fee in fees.select_related("fixed_charge").only(
        "amount_details", "to_datetime", "fixed_charge__parent_id"
    ):
        key = fee.fixed_charge.parent_id or fee.fixed_charge_id
        last = covered_days(fee, schedule)[1]
        until[key] = max(until.get(key, last), last)
    return until


def _fixed_charge_fees(
    subscription: Subscription,
    schedule: Schedule,
    period,
    last_day: date,
    prices: PriceList,
    before_invoice_id: int | None,
    advance: bool,
) -> list[FeeSpec]:
    """The fixed charges billed in advance (`advance`) or in arrears, for the days of
    `period` from the subscription's start (or the day after what earlier fees of the same
    fixed charge paid for) to `last_day`: the charge model on the subscription's units;
    `prorated` ones by units x days / period days (Lago), the others in full. One fee per
    fixed charge, zero amounts included (they record the days billed)."""
    rows = [
        (r, u) for r, u in subscription_fixed_charges(subscription) if r.pay_in_advance == advance
    ]
    if not rows:
        return []
    until = fixed_charges_billed_until(subscription, schedule, before_invoice_id)
    start, end = schedule.bounds(period)
    fees = []
    for row, units in rows:
        first = schedule.day(subscription.started_at)
        paid = until.get(row.parent_id or row.pk)
        first = max(first, _day_after(paid)) if paid else first
        first, last = max(first, period.start), min(last_day, period.end)
        if first > last:
            continue
        days = (last - first).days + 1
        usage = pricing.UsageInput(units=units)
        if row.prorated:
            proration = pricing.Proration(
                period_days=period.days, unit_days=((days, units),), peak=units
            )
            usage = pricing.UsageInput(units=units, proration=proration)
        result = pricing.price(row.charge_model, row.properties, usage)
        precise = prices.convert(None, result.amount)  # plan-currency prices, as the minimums
        name = row.invoice_display_name or row.add_on.invoice_display_name or row.add_on.name
        fees.append(
            FeeSpec(
                fee_type=Fee.FeeType.FIXED_CHARGE,
                amount_cents=to_minor_units(precise, prices.currency),
                precise_amount=precise,
                units=units,
                precise_unit_amount=precise / units if units else ZERO,
                description=row.add_on.name,
                invoice_display_name=name,
                from_datetime=max(start, subscription.started_at),
                to_datetime=end,
                fixed_charge=row,
                total_aggregated_units=units,
                pay_in_advance=advance,
                amount_details={
                    **charge_amount_details(
                        row.charge_model,
                        row.properties,
                        result,
                        lambda amount: prices.convert(None, amount),
                    ),
                    "add_on_code": row.add_on.code,
                    "fixed_charge_code": row.code,
                    "charge_model": row.charge_model,
                    "prorated_by_days": row.prorated,  # not "prorated": that key lists day lines
                    "from_date": first.isoformat(),
                    "to_date": last.isoformat(),
                    "days": days,
                    "period_days": period.days,
                },
            )
        )
    return fees


def _line_name(line: FeeLine) -> str:
    charge = line.charge
    name = charge.invoice_display_name or charge.billable_metric.name
    if line.charge_filter is not None:
        label = line.charge_filter.invoice_display_name or ", ".join(
            f"{k}: {'/'.join(v)}" for k, v in sorted(line.charge_filter.values.items())
        )
        name = f"{name} — {label}"
    if line.group:
        name = f"{name} ({', '.join(str(v) for v in line.group.values())})"
    return name


def _charge_fees(usage: ChargeUsage, lower, upper, prices: PriceList) -> list[FeeSpec]:
    """One fee per priced bucket with units; zero-unit buckets bill nothing (Lago)."""
    fees = []
    for line in usage.lines:
        if not line.units and not line.amount_cents:
            continue
        fees.append(
            FeeSpec(
                fee_type=Fee.FeeType.CHARGE,
                amount_cents=line.amount_cents,
                precise_amount=line.result.amount,
                units=line.units,
                precise_unit_amount=line.result.unit_amount,
                description=line.charge.billable_metric.name,
                invoice_display_name=_line_name(line),
                from_datetime=lower,
                to_datetime=upper,
                charge=line.charge,
                charge_filter=line.charge_filter,
                grouped_by=line.group,
                total_aggregated_units=line.aggregated_units,
                events_count=line.events_count,
                amount_details=_details(line, prices),
            )
        )
    return fees


def _details(line: FeeLine, prices: PriceList) -> dict:
    """Lago's amount_details of the line, its amounts in the billing currency."""
    return charge_amount_details(
        line.charge.charge_model,
        line.properties,
        line.result,
        lambda amount: prices.convert(line.charge, amount),
    )


def _spending_minimum(usage: ChargeUsage, fraction: Fraction, prices: PriceList, lower, upper):
    """True-up to a charge's min_amount_cents (prorated to the days used)."""
    charge = usage.charge
    currency = prices.currency
    if not charge.min_amount_cents:
        return None
    # min_amount_cents is in the plan's currency even when the charge has native prices in the
    # billing currency: converted like the commitment, at the FX rate.
    minimum = prices.convert(
        None, _fraction_amount(charge.min_amount_cents, fraction, prices.plan.amount_currency)
    )
    short = minimum - from_minor_units(usage.amount_cents, currency)
    if short <= 0:
        return None
    name = charge.invoice_display_name or charge.billable_metric.name
    return FeeSpec(
        fee_type=Fee.FeeType.CHARGE,
        amount_cents=to_minor_units(short, currency),
        precise_amount=short,
        precise_unit_amount=short,
        description=f"{name} — minimum spend true-up",
        invoice_display_name=f"{name} — minimum spend true-up",
        from_datetime=lower,
        to_datetime=upper,
        charge=charge,
        amount_details={"min_amount_cents": charge.min_amount_cents, "true_up": True},
    )


def _billed_in_period(subscription: Subscription, start: datetime, end: datetime) -> int:
    """Base, usage and commitment fees already invoiced for this subscription inside
    [start, end) (a true-up billed once is not billed again by a later termination)."""
    total = (
        Fee.objects.filter(
            subscription=subscription,
            fee_type__in=[Fee.FeeType.SUBSCRIPTION, Fee.FeeType.CHARGE, Fee.FeeType.COMMITMENT],
            from_datetime__gte=start,
            to_datetime__lte=end,
        )
        .exclude(invoice__status__in=Invoice.NOT_BILLED)
        .aggregate(total=Sum("amount_cents"))["total"]
    )
    return total or 0


def _commitment_fee(
    subscription: Subscription, schedule: Schedule, period, last_day, current_fees, prices
) -> FeeSpec | None:
    """Minimum commitment of the base period, prorated; the shortfall is billed as a true-up."""
    commitment = getattr(subscription.plan, "minimum_commitment", None)
    if commitment is None or not commitment.amount_cents:
        return None
    currency = prices.currency
    start, end = schedule.bounds(period)
    fraction = schedule.used_fraction(period, schedule.day(subscription.started_at), last_day)
    plan_currency = prices.plan.amount_currency
    minimum = prices.convert(
        None, _fraction_amount(commitment.amount_cents, fraction, plan_currency)
    )
    counted = [
        f for f in current_fees if f.fee_type != Fee.FeeType.SUBSCRIPTION or not f.pay_in_advance
    ]
    billed = _billed_in_period(subscription, start, end) + sum(f.amount_cents for f in counted)
    short = minimum - from_minor_units(billed, currency)
    if short <= 0:
        return None
    name = commitment.invoice_display_name or "Minimum commitment true-up"
    return FeeSpec(
        fee_type=Fee.FeeType.COMMITMENT,
        amount_cents=to_minor_units(short, currency),
        precise_amount=short,
        precise_unit_amount=short,
        description=name,
        invoice_display_name=name,
        from_datetime=max(start, subscription.started_at),
        to_datetime=end,
        amount_details={"commitment_amount_cents": commitment.amount_cents},
    )


def _successor_starts_at(subscription: Subscription, boundary: datetime) -> bool:
    """A pending downgrade that takes over at this boundary (no advance fee for the old plan)."""
    from customers.services import downgrade_date

    pending = subscription.next_subscriptions.filter(status=Subscription.Status.PENDING)
    return any(downgrade_date(s) == boundary for s in pending)


def _last_billable_day(subscription: Subscription, schedule: Schedule, day: date) -> date:
    """`day`, or the subscription's last used day if it was terminated before."""
    last_used = last_used_day(subscription, schedule)
    return min(day, last_used) if last_used else day


def starting_plan(subscription: Subscription, before_invoice_id: int | None = None) -> BillingPlan:
    """The invoice at the start of a plan with its base fee or fixed charges in advance."""
    schedule = Schedule.of(subscription)
    start_day = schedule.day(subscription.started_at)
    period = schedule.base_period(start_day)
    prices = price_list(subscription.plan, subscription_currency(subscription), start_day)
    covered = coverage(subscription, schedule, before_invoice_id)
    last = _last_billable_day(subscription, schedule, period.end)
    days = (_day_after(covered.base_until), last)
    fees = []
    if subscription.plan.pay_in_advance:
        fee = _base_fee(subscription, schedule, period, days, advance=True, prices=prices)
        fees += [fee] if fee else []
    fees += _fixed_charge_fees(
        subscription, schedule, period, last, prices, before_invoice_id, True
    )
    return BillingPlan(
        subscription=subscription,
        boundary=subscription.started_at,
        reason=Reason.STARTING,
        from_datetime=subscription.started_at,
        to_datetime=schedule.end(period),
        charges_from=subscription.started_at,
        charges_to=subscription.started_at,
        fees=fees,
        fx_details=prices.fx_details() if fees else {},
    )


def _unbilled_in_advance(subscription: Subscription, lower, upper) -> list[FeeSpec]:
    """In-advance usage of the closing period that no in-advance run billed (lost, late)."""
    from invoices.services.deltas import unbilled_in_advance_fees  # deltas builds FeeSpecs

    return unbilled_in_advance_fees(subscription, lower, upper)


def _usage_fees(subscription, schedule, prices, lower, upper, last_day) -> list[FeeSpec]:
    """Usage of [lower, upper) priced per charge, with spending-minimum true-ups prorated to
    the days used of the charges period."""
    charges_period = schedule.charges_period(schedule.last_day_before(upper))
    report = subscription_usage(subscription, lower, upper, billable_only=True, on=upper)
    charge_fraction = schedule.used_fraction(
        charges_period, schedule.day(subscription.started_at), last_day
    )
    fees: list[FeeSpec] = []
    for usage in report.charges:
        charge_fees = _charge_fees(usage, lower, upper, prices)
        fees += charge_fees
        minimum = _spending_minimum(usage, charge_fraction, prices, lower, upper)
        if minimum:
            minimum.true_up_of = charge_fees[0] if charge_fees else None  # Lago: tied to the charge
            fees.append(minimum)
    return fees


def period_plan(
    subscription: Subscription, boundary: datetime, before_invoice_id: int | None = None
) -> BillingPlan:
    """The invoice at the end of a charges period (periodic) or at termination: only the days
    and the usage that no earlier invoice billed (see Coverage)."""
    schedule = Schedule.of(subscription)
    plan: Plan = subscription.plan
    prices = price_list(plan, subscription_currency(subscription), schedule.day(boundary))
    terminating = bool(subscription.terminated_at and subscription.terminated_at <= boundary)
    covered = coverage(subscription, schedule, before_invoice_id)
    last_day = _last_billable_day(subscription, schedule, schedule.last_day_before(boundary))
    charges_period = schedule.charges_period(schedule.last_day_before(boundary))
    lower = max(schedule.start(charges_period), subscription.started_at)
    lower = max(lower, covered.usage_until) if covered.usage_until else lower
    upper = min(boundary, subscription.terminated_at or boundary)
    fees = []
    if lower < upper:
        fees = _usage_fees(subscription, schedule, prices, lower, upper, last_day)
        fees += _unbilled_in_advance(subscription, lower, upper)
    base_period = schedule.base_period(schedule.last_day_before(boundary))
    base_end = schedule.end(base_period) == boundary
    first_unbilled = _day_after(covered.base_until)
    if not plan.pay_in_advance and (base_end or terminating):
        days = (first_unbilled, last_day)
        fee = _base_fee(subscription, schedule, base_period, days, False, prices)
        fees += [fee] if fee else []
    if base_end or terminating:
        true_up = _commitment_fee(subscription, schedule, base_period, last_day, fees, prices)
        fees += [true_up] if true_up else []
        fees += _fixed_charge_fees(
            subscription, schedule, base_period, last_day, prices, before_invoice_id, False
        )
    next_to = boundary
    continues = base_end and not terminating and not _successor_starts_at(subscription, boundary)
    if continues:
        following = schedule.base_period(schedule.day(boundary))
        following_last = _last_billable_day(subscription, schedule, following.end)
        if plan.pay_in_advance:
            days = (first_unbilled, following_last)
            fee = _base_fee(subscription, schedule, following, days, True, prices)
            fees += [fee] if fee else []
            next_to = schedule.end(following)
        fees += _fixed_charge_fees(
            subscription, schedule, following, following_last, prices, before_invoice_id, True
        )
    return BillingPlan(
        subscription=subscription,
        boundary=boundary,
        reason=Reason.TERMINATING if terminating else Reason.PERIODIC,
        from_datetime=max(schedule.start(base_period), subscription.started_at),
        to_datetime=max(boundary, next_to),
        charges_from=lower,
        charges_to=boundary,
        fees=fees,
        fx_details=prices.fx_details(),
    )


def plan_for(
    subscription: Subscription,
    boundary: datetime,
    reason: str,
    before_invoice_id: int | None = None,
) -> BillingPlan:
    """What one billing invoices; `before_invoice_id` when refreshing that invoice (a draft)."""
    if reason == Reason.STARTING:
        return starting_plan(subscription, before_invoice_id)
    return period_plan(subscription, boundary, before_invoice_id)


def bills_at_start(subscription: Subscription) -> bool:
    """A start has an invoice of its own: the base fee or a fixed charge is paid in advance."""
    plan = subscription.plan
    return plan.pay_in_advance or plan.fixed_charges.live().filter(pay_in_advance=True).exists()


def next_boundary(subscription: Subscription, after: datetime) -> datetime:
    """The end of the charges period containing `after` (the next periodic billing)."""
    schedule = Schedule.of(subscription)
    return schedule.end(schedule.charges_period(schedule.day(after)))
