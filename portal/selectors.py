"""What the portal pages show, always for one customer: every query here starts from the
customer, so another customer's invoice, wallet or subscription id simply finds nothing."""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.db.models import Max, Sum
from django.db.models.functions import TruncDate
from django.http import Http404

from customers.models import Customer, Subscription, Wallet, WalletTransaction
from customers.selectors import customer_timezone
from customers.wallets import customer_wallet_balances
from invoices.models import Invoice
from invoices.selectors import unpaid_invoices_with_due
from plans import periods, pricing
from usage.models import UsageRollup
from usage.reports import (
    ChargeUsage,
    UsageReport,
    current_usage,
    past_periods,
    projected_usage,
    subscription_usage,
)

ZERO = Decimal(0)
SHOWN_INVOICES = (Invoice.Status.FINALIZED, Invoice.Status.VOIDED)  # never drafts


# --- overview and usage ----------------------------------------------------------------------


@dataclass
class MetricLine:
    """One charge of a subscription, as the customer reads it."""

    name: str
    code: str
    aggregation: str  # the metric's aggregation type (what the daily chart can show)
    units: Decimal
    included: Decimal | None
    included_used: Decimal
    amount_cents: int
    projected_units: Decimal | None = None
    projected_amount_cents: int | None = None
    filters: list[dict] = field(default_factory=list)
    daily: list[tuple[date, Decimal]] = field(default_factory=list)

    @property
    def overage_units(self) -> Decimal:
        return self.units - self.included_used

    @property
    def projected_whole(self) -> Decimal | None:
        """The projection is a pace, not a count: shown in whole units."""
        if self.projected_units is None:
            return None
        return self.projected_units.quantize(Decimal(1), rounding=ROUND_HALF_UP)


@dataclass
class SubscriptionUsage:
    subscription: Subscription
    from_date: date
    to_date: date  # inclusive, in the customer's time zone
    currency: str
    lines: list[MetricLine]
    amount_cents: int
    projected_amount_cents: int | None
    plan_fee_cents: int | None = None


def _filters(usage: ChargeUsage) -> list[dict]:
    """Per filter (e.g. per model), the default price last."""
    entries: dict = {}
    for line in usage.lines:
        key = line.charge_filter.pk if line.charge_filter else 0
        name = ""
        if line.charge_filter:
            values = line.charge_filter.values or {}
            name = line.charge_filter.invoice_display_name or ", ".join(
                f"{', '.join(str(v) for v in vals)}" for vals in values.values()
            )
        entry = entries.setdefault(key, {"name": name, "units": ZERO, "amount_cents": 0})
        entry["units"] += line.units
        entry["amount_cents"] += line.amount_cents
    return sorted(entries.values(), key=lambda e: (e["name"] == "", e["name"]))


def _included(usage: ChargeUsage) -> tuple[Decimal | None, Decimal]:
    """(units included, units of them used). Each filter (and the default price) has its own
    free tier, so both are sums over the charge's price buckets."""
    charge = usage.charge
    buckets = {0: charge.properties or {}}
    buckets |= {f.pk: f.properties or {} for f in charge.filters.all() if f.deleted_at is None}
    free = {
        key: pricing.included_units(charge.charge_model, props) for key, props in buckets.items()
    }
    if all(value is None for value in free.values()):
        return None, ZERO
    used = ZERO
    for line in usage.lines:
        limit = free.get(line.charge_filter.pk if line.charge_filter else 0)
        used += min(line.units, limit) if limit is not None else ZERO
    return sum((value for value in free.values() if value is not None), ZERO), used


def _line(usage: ChargeUsage, projected: ChargeUsage | None) -> MetricLine:
    charge, metric = usage.charge, usage.charge.billable_metric
    included, used = _included(usage)
    return MetricLine(
        name=charge.invoice_display_name or metric.name,
        code=metric.code,
        aggregation=metric.aggregation_type,
        units=usage.units,
        included=included,
        included_used=used,
        amount_cents=usage.amount_cents,
        projected_units=projected.units if projected else None,
        projected_amount_cents=projected.amount_cents if projected else None,
        filters=_filters(usage) if any(line.charge_filter for line in usage.lines) else [],
    )


def _local_bounds(report: UsageReport, tz: str) -> tuple[date, date]:
    last = periods.local_date(report.to_datetime, tz)
    return periods.local_date(report.from_datetime, tz), date.fromordinal(last.toordinal() - 1)


def daily_usage(
    subscription: Subscription,
    code: str,
    aggregation: str,
    lower: datetime,
    upper: datetime,
    tz: str,
) -> list[tuple[date, Decimal]]:
    """Per local day: the sum (sum_agg), the highest value (max_agg), else the events; summed
    by the database from the hourly rollups kept at ingestion, one row per day."""
    rows = (
        UsageRollup.objects.filter(
            external_subscription_id=subscription.external_id,
            code=code,
            hour__gte=lower,
            hour__lt=upper,
        )
        .annotate(day=TruncDate("hour", tzinfo=ZoneInfo(str(tz))))
        .values("day")
        .annotate(total=Sum("value_sum"), events=Sum("events_count"), top=Max("value_max"))
        .order_by("day")
    )
    by_day = {}
    for row in rows:
        if aggregation == "sum_agg":
            value = row["total"] or ZERO
        elif aggregation == "max_agg":
            value = row["top"] or ZERO
        else:
            value = Decimal(row["events"] or 0)
        by_day[row["day"]] = value
    first, last = periods.local_date(lower, tz), periods.local_date(upper, tz)
    days = [date.fromordinal(n) for n in range(first.toordinal(), last.toordinal())]
    return [(day, by_day.get(day, ZERO)) for day in days]


def _subscription_usage(
    report: UsageReport, projected: UsageReport | None, tz: str
) -> SubscriptionUsage:
    projections = projected.charges if projected else [None] * len(report.charges)
    lines = [_line(u, p) for u, p in zip(report.charges, projections, strict=True)]
    first, last = _local_bounds(report, tz)
    for line in lines:
        line.daily = daily_usage(
            report.subscription,
            line.code,
            line.aggregation,
            report.from_datetime,
            report.to_datetime,
            tz,
        )
    return SubscriptionUsage(
        subscription=report.subscription,
        from_date=first,
        to_date=last,
        currency=report.currency,
        lines=lines,
        amount_cents=report.amount_cents,
        projected_amount_cents=projected.amount_cents if projected else None,
        plan_fee_cents=_plan_fee(report),
    )


def _plan_fee(report: UsageReport) -> int | None:
    """The plan's base fee in the subscription's currency (None when it cannot be priced yet,
    e.g. no FX rate)."""
    from core.errors import RuleViolation
    from plans.price_lists import price_list

    try:
        prices = price_list(report.subscription.plan, report.currency, report.to_datetime.date())
    except RuleViolation:
        return None
    return prices.base_amount_cents


def portal_subscriptions(customer: Customer):
    return (
        Subscription.objects.filter(customer=customer, status=Subscription.Status.ACTIVE)
        .select_related("plan", "customer")
        .order_by("created_at", "id")
    )


def portal_subscription(customer: Customer, external_id: str) -> Subscription:
    """The customer's subscription by external id (its current row), else 404."""
    rows = Subscription.objects.filter(customer=customer, external_id=external_id)
    subscription = rows.select_related("plan", "customer").order_by("-created_at", "-id").first()
    if subscription is None:
        raise Http404
    return subscription


def current_period_usage(customer: Customer, now: datetime) -> list[SubscriptionUsage]:
    """Every active subscription's current period, with its projection to the period's end."""
    tz = customer_timezone(customer)
    result = []
    for subscription in portal_subscriptions(customer):
        report = current_usage(subscription, now)
        result.append(_subscription_usage(report, projected_usage(report, now), tz))
    return result


def usage_periods(subscription: Subscription, now: datetime) -> list[tuple[datetime, datetime]]:
    """The current period (if active) then the closed ones, newest first."""
    bounds = list(past_periods(subscription, now))
    if subscription.status == Subscription.Status.ACTIVE:
        report = current_usage(subscription, now)
        bounds.insert(0, (report.from_datetime, report.to_datetime))
    return bounds


def period_usage(
    subscription: Subscription, lower: datetime, upper: datetime, now: datetime
) -> SubscriptionUsage:
    tz = customer_timezone(subscription.customer)
    report = subscription_usage(subscription, lower, upper)
    projected = projected_usage(report, now) if lower <= now < upper else None
    return _subscription_usage(report, projected, tz)


# --- invoices ------------------------------------------------------------------------------------


def portal_invoices(customer: Customer):
    return Invoice.objects.filter(customer=customer, status__in=SHOWN_INVOICES).order_by(
        "-issuing_date", "-sequential_id", "-id"
    )


def portal_invoice(customer: Customer, lago_id) -> Invoice:
    """One of the customer's invoices, else 404 (another customer's id included)."""
    invoice = portal_invoices(customer).filter(lago_id=lago_id).first()
    if invoice is None:
        raise Http404
    return invoice


def amount_due_cents(customer: Customer) -> dict[str, int]:
    """What the customer owes on finalized invoices not paid yet (less credit-note offsets),
    per currency."""
    rows = (
        unpaid_invoices_with_due()
        .filter(customer=customer)
        .values("currency")
        .annotate(total=Sum("due_cents"))
        .order_by("currency")
    )
    return {row["currency"]: row["total"] for row in rows if row["total"]}


# --- credits -------------------------------------------------------------------------------------


@dataclass
class WalletView:
    wallet: Wallet
    credits_balance: Decimal
    balance_cents: int
    ongoing_balance_cents: int


def portal_wallets(customer: Customer, now: datetime) -> list[WalletView]:
    balances = customer_wallet_balances(customer, now=now)
    wallets = Wallet.objects.filter(customer=customer, pk__in=balances).order_by(
        "status", "priority", "created_at"
    )
    return [
        WalletView(
            wallet=w,
            credits_balance=balances[w.pk].credits_balance,
            balance_cents=balances[w.pk].balance_cents,
            ongoing_balance_cents=balances[w.pk].ongoing_balance_cents,
        )
        for w in wallets
    ]


def portal_wallet(customer: Customer, lago_id) -> Wallet:
    wallet = Wallet.objects.filter(customer=customer, lago_id=lago_id).first()
    if wallet is None:
        raise Http404
    return wallet


def wallet_transactions(wallet: Wallet, limit: int = 50):
    return WalletTransaction.objects.filter(wallet=wallet).order_by("-created_at", "-id")[:limit]


def local_period(subscription: Subscription, bounds: tuple[datetime, datetime]) -> tuple:
    """UTC [from, to) bounds as the customer's first and last day."""
    tz = customer_timezone(subscription.customer)
    lower, upper = bounds
    last = periods.local_date(upper, tz)
    return periods.local_date(lower, tz), date.fromordinal(last.toordinal() - 1)
