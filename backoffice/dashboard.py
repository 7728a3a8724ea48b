"""The finance dashboard's figures: each computed in SQL (grouped rows, never a row per event
or per invoice in Python), converted to the chosen currency with the FX table at each period's
end, and cached briefly. The arithmetic on grouped rows (MRR movements, conversion) is pure."""

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.db.models.functions import TruncDate, TruncMinute, TruncMonth

from core.fx import fx_rate_or_none
from core.money import from_minor_units, to_minor_units
from plans.periods import interval_months

CACHE_SECONDS = 60
REVENUE_KINDS = {
    "subscription": "base",
    "commitment": "base",
    "charge": "usage",
    "add_on": "one_off",
}
AGE_BUCKETS = ("not due", "0-30", "31-60", "61-90", "90+")


# --- pure helpers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    new: int = 0
    expansion: int = 0
    contraction: int = 0  # negative or zero
    churn: int = 0  # negative or zero

    @property
    def net(self) -> int:
        return self.new + self.expansion + self.contraction + self.churn


def monthly_factor(interval: str) -> Decimal:
    """What one month of a plan's base fee is, as a share of the fee (1/3 for quarterly)."""
    months = interval_months(interval)
    return Decimal(months.denominator) / Decimal(months.numerator)


def mrr_movement(before: dict, after: dict) -> Movement:
    """How MRR moved from one month end to the next, per customer: new (0 -> x), expansion
    (x -> more), contraction (x -> less, not 0), churn (x -> 0). Sums to after - before."""
    new = expansion = contraction = churn = 0
    for customer in set(before) | set(after):
        old, now = before.get(customer, 0), after.get(customer, 0)
        if old == 0 and now > 0:
            new += now
        elif old > 0 and now == 0:
            churn -= old
        elif now > old:
            expansion += now - old
        elif now < old:
            contraction -= old - now
    return Movement(new, expansion, contraction, churn)


def month_ends(start: date, end: date) -> list[date]:
    """The last day of every month from start's month to end's month."""
    days, year, month = [], start.year, start.month
    while (year, month) <= (end.year, end.month):
        days.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


class Converter:
    """Minor units of any currency into `currency`'s, at the rate of a given day (cached)."""

    def __init__(self, currency: str):
        self.currency = currency
        self.missing: set[tuple[str, date]] = set()
        self._rates: dict = {}

    def __call__(self, cents: int | Decimal, source: str, on: date) -> int | None:
        if source == self.currency:
            return int(cents)
        key = (source, on)
        if key not in self._rates:
            self._rates[key] = fx_rate_or_none(base=source, quote=self.currency, on=on)
        rate = self._rates[key]
        if rate is None:
            self.missing.add(key)
            return None
        return to_minor_units(from_minor_units(cents, source) * rate, self.currency)


def _month_end(month) -> date:
    month = month.date() if isinstance(month, datetime) else month
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


def cached(name: str, compute, *args):
    """The figure from the cache if computed in the last DASHBOARD_CACHE_SECONDS."""
    from django.conf import settings

    seconds = getattr(settings, "DASHBOARD_CACHE_SECONDS", CACHE_SECONDS)
    if not seconds:
        return compute(*args)
    key = "dashboard:" + name + ":" + ":".join(str(a) for a in args)
    value = cache.get(key)
    if value is None:
        value = compute(*args)
        cache.set(key, value, seconds)
    return value


# --- MRR --------------------------------------------------------------------------------------


@dataclass
class MrrMonth:
    month: date
    mrr_cents: int
    movement: Movement
    customers: int


def _mrr_by_customer(day: date, convert: Converter) -> dict[int, int]:
    """Each customer's MRR at the end of `day`: active subscriptions' base fees per month."""
    from customers.models import Subscription

    moment = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    active = (
        Subscription.objects.filter(started_at__lt=moment)
        .filter(Q(terminated_at__isnull=True) | Q(terminated_at__gte=moment))
        .exclude(status=Subscription.Status.CANCELED)
        .values("customer_id", "plan__interval", "plan__amount_currency")
        .annotate(total=Sum("plan__amount_cents"))
    )
    result: dict[int, int] = defaultdict(int)
    for row in active:
        monthly = Decimal(row["total"] or 0) * monthly_factor(row["plan__interval"])
        cents = convert(monthly, row["plan__amount_currency"], day)
        if cents:
            result[row["customer_id"]] += cents
    return dict(result)


def mrr_by_month(start: date, end: date, currency: str) -> list[MrrMonth]:
    convert = Converter(currency)
    days = month_ends(start, end)
    before = _mrr_by_customer(date.fromordinal(days[0].replace(day=1).toordinal() - 1), convert)
    months = []
    for day in days:
        after = _mrr_by_customer(day, convert)
        months.append(
            MrrMonth(
                month=day.replace(day=1),
                mrr_cents=sum(after.values()),
                movement=mrr_movement(before, after),
                customers=len([v for v in after.values() if v > 0]),
            )
        )
        before = after
    return months


# --- revenue --------------------------------------------------------------------------------


@dataclass
class RevenueMonth:
    month: date
    base_cents: int = 0
    usage_cents: int = 0
    one_off_cents: int = 0
    invoices_count: int = 0  # finalized invoices issued that month

    @property
    def total_cents(self) -> int:
        return self.base_cents + self.usage_cents + self.one_off_cents

    @property
    def base_share(self) -> Decimal:
        """The share of revenue from base plans: what keeps revenue predictable."""
        return Decimal(self.base_cents) / self.total_cents if self.total_cents else Decimal(0)


def _finalized_fees(start: date, end: date, external_customer_id: str | None = None):
    from invoices.models import Fee, Invoice

    fees = Fee.objects.filter(
        invoice__status=Invoice.Status.FINALIZED,
        invoice__issuing_date__gte=start,
        invoice__issuing_date__lte=end,
    )
    if external_customer_id is not None:
        fees = fees.filter(invoice__customer__external_id=external_customer_id)
    return fees


def revenue_by_month(
    start: date, end: date, currency: str, external_customer_id: str | None = None
) -> list[RevenueMonth]:
    """Fees of finalized invoices by issuing month: base fees (and commitment true-ups), usage,
    one-offs (add-ons), and how many finalized invoices were issued. Prepaid credit purchases
    are not revenue until used. `external_customer_id` narrows it to one customer (the API)."""
    from invoices.models import Invoice

    convert = Converter(currency)
    rows = (
        _finalized_fees(start, end, external_customer_id)
        .filter(fee_type__in=REVENUE_KINDS)
        .annotate(month=TruncMonth("invoice__issuing_date"))
        .values("month", "fee_type", "amount_currency")
        .annotate(total=Sum("amount_cents"))
        .order_by("month")
    )
    months: dict[date, RevenueMonth] = {}
    for row in rows:
        month = _month_end(row["month"]).replace(day=1)
        cents = convert(row["total"] or 0, row["amount_currency"], _month_end(month)) or 0
        entry = months.setdefault(month, RevenueMonth(month))
        kind = REVENUE_KINDS[row["fee_type"]]
        setattr(entry, f"{kind}_cents", getattr(entry, f"{kind}_cents") + cents)
    invoices = Invoice.objects.filter(
        status=Invoice.Status.FINALIZED, issuing_date__gte=start, issuing_date__lte=end
    )
    if external_customer_id is not None:
        invoices = invoices.filter(customer__external_id=external_customer_id)
    counts = (
        invoices.annotate(month=TruncMonth("issuing_date"))
        .values("month")
        .annotate(count=Count("id"))
        .order_by("month")
    )
    for row in counts:
        month = _month_end(row["month"]).replace(day=1)
        months.setdefault(month, RevenueMonth(month)).invoices_count = row["count"]
    return [
        months.get(d.replace(day=1), RevenueMonth(d.replace(day=1))) for d in month_ends(start, end)
    ]


@dataclass
class MetricRevenue:
    month: date
    code: str
    amount_cents: int


def usage_revenue_by_month(start: date, end: date, currency: str) -> list[MetricRevenue]:
    """The usage fees of finalized invoices by issuing month and metric: the revenue mix's
    `usage_cents`, split per billable metric (summed, they are that figure when one currency)."""
    convert = Converter(currency)
    rows = (
        _finalized_fees(start, end)
        .filter(fee_type="charge")
        .annotate(month=TruncMonth("invoice__issuing_date"))
        .values("month", "charge__billable_metric__code", "amount_currency")
        .annotate(total=Sum("amount_cents"))
        .order_by("month", "charge__billable_metric__code")
    )
    result: dict[tuple[date, str], MetricRevenue] = {}
    for row in rows:
        month = _month_end(row["month"]).replace(day=1)
        code = row["charge__billable_metric__code"] or ""
        cents = convert(row["total"] or 0, row["amount_currency"], _month_end(month)) or 0
        entry = result.setdefault((month, code), MetricRevenue(month, code, 0))
        entry.amount_cents += cents
    return list(result.values())


@dataclass
class CollectionMonth:
    month: date
    payment_status: str
    invoices_count: int
    amount_cents: int


def invoice_collection_by_month(start: date, end: date, currency: str) -> list[CollectionMonth]:
    """Finalized invoices by issuing month and payment status: how many, and their totals."""
    from invoices.models import Invoice

    convert = Converter(currency)
    rows = (
        Invoice.objects.filter(
            status=Invoice.Status.FINALIZED, issuing_date__gte=start, issuing_date__lte=end
        )
        .annotate(month=TruncMonth("issuing_date"))
        .values("month", "payment_status", "currency")
        .annotate(total=Sum("total_amount_cents"), count=Count("id"))
        .order_by("month", "payment_status")
    )
    result: dict[tuple[date, str], CollectionMonth] = {}
    for row in rows:
        month = _month_end(row["month"]).replace(day=1)
        key = (month, row["payment_status"])
        entry = result.setdefault(key, CollectionMonth(month, row["payment_status"], 0, 0))
        entry.invoices_count += row["count"]
        entry.amount_cents += convert(row["total"] or 0, row["currency"], _month_end(month)) or 0
    return list(result.values())


# --- usage ---------------------------------------------------------------------------------------


def usage_by_day(start: date, end: date, limit_metrics: int = 4) -> dict[str, list]:
    """Events per metric per UTC day, from the hourly rollups (the busiest metrics first)."""
    from usage.models import UsageRollup

    lower = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    upper = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    rollups = UsageRollup.objects.filter(hour__gte=lower, hour__lt=upper)
    busiest = (
        rollups.values("code").annotate(events=Sum("events_count")).order_by("-events", "code")
    )
    codes = [row["code"] for row in busiest[:limit_metrics]]
    rows = (
        rollups.filter(code__in=codes)
        .annotate(day=TruncDate("hour", tzinfo=UTC))
        .values("code", "day")
        .annotate(events=Sum("events_count"), units=Sum("value_sum"))
        .order_by("code", "day")
    )
    by_code: dict[str, dict] = {code: {} for code in codes}
    for row in rows:
        by_code[row["code"]][row["day"]] = row
    days = [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]
    return {
        code: [(day, Decimal(values.get(day, {}).get("events") or 0)) for day in days]
        for code, values in by_code.items()
    }


@dataclass
class CustomerFigure:
    customer_id: int
    external_id: str
    name: str
    value: int  # events, or minor units of the display currency


def _figure(totals: dict, row: dict) -> "CustomerFigure":
    """The customer's running figure in `totals` (a grouped row names the customer)."""
    if row["customer_id"] not in totals:
        name = row["customer__name"] or row["customer__external_id"]
        totals[row["customer_id"]] = CustomerFigure(
            row["customer_id"], row["customer__external_id"], name, 0
        )
    return totals[row["customer_id"]]


def top_customers_by_usage(start: date, end: date, limit: int = 10) -> list[CustomerFigure]:
    from customers.models import Subscription
    from usage.models import UsageRollup

    lower = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    upper = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    rows = (
        UsageRollup.objects.filter(hour__gte=lower, hour__lt=upper)
        .values("external_subscription_id")
        .annotate(events=Sum("events_count"))
        .order_by("-events")[: limit * 5]
    )
    events = {row["external_subscription_id"]: row["events"] for row in rows}
    owners = (
        Subscription.objects.filter(external_id__in=events)
        .values("external_id", "customer_id", "customer__external_id", "customer__name")
        .distinct()
    )
    totals: dict[int, CustomerFigure] = {}
    seen = set()
    for row in owners:
        if row["external_id"] in seen:
            continue
        seen.add(row["external_id"])
        figure = _figure(totals, row)
        figure.value += events[row["external_id"]]
    return sorted(totals.values(), key=lambda f: -f.value)[:limit]


def top_customers_by_revenue(
    start: date, end: date, currency: str, limit: int = 10
) -> list[CustomerFigure]:
    from invoices.models import Invoice

    convert = Converter(currency)
    rows = (
        Invoice.objects.filter(
            status=Invoice.Status.FINALIZED, issuing_date__gte=start, issuing_date__lte=end
        )
        .values("customer_id", "customer__external_id", "customer__name", "currency")
        .annotate(total=Sum("sub_total_excluding_taxes_amount_cents"))
    )
    totals: dict[int, CustomerFigure] = {}
    for row in rows:
        figure = _figure(totals, row)
        figure.value += convert(row["total"] or 0, row["currency"], end) or 0
    return sorted(totals.values(), key=lambda f: -f.value)[:limit]


# --- gross margin ---------------------------------------------------------------------------------


@dataclass
class Margin:
    key: str  # metric code or customer external id
    revenue_cents: int
    cost_cents: int

    @property
    def margin_cents(self) -> int:
        return self.revenue_cents - self.cost_cents

    @property
    def margin_share(self) -> Decimal:
        return Decimal(self.margin_cents) / self.revenue_cents if self.revenue_cents else Decimal(0)


def gross_margin(start: date, end: date, currency: str, by: str = "metric") -> list[Margin]:
    """Usage revenue minus cost (units x the metric's unit_cost) for metrics with a unit cost,
    per metric or per customer."""
    convert = Converter(currency)
    group = (
        "invoice__customer__external_id" if by == "customer" else "charge__billable_metric__code"
    )
    rows = (
        _finalized_fees(start, end)
        .filter(fee_type="charge", charge__billable_metric__unit_cost__isnull=False)
        .values(
            group,
            "amount_currency",
            "charge__billable_metric__unit_cost",
            "charge__billable_metric__unit_cost_currency",
        )
        .annotate(revenue=Sum("amount_cents"), units=Sum("units"))
    )
    result: dict[str, Margin] = {}
    for row in rows:
        margin = result.setdefault(row[group], Margin(row[group], 0, 0))
        margin.revenue_cents += convert(row["revenue"] or 0, row["amount_currency"], end) or 0
        cost_currency = str(row["charge__billable_metric__unit_cost_currency"])
        cost = Decimal(row["units"] or 0) * Decimal(row["charge__billable_metric__unit_cost"])
        cost_cents = to_minor_units(cost, cost_currency)
        margin.cost_cents += convert(cost_cents, cost_currency, end) or 0
    return sorted(result.values(), key=lambda m: -m.revenue_cents)


# --- receivables ----------------------------------------------------------------------------------


@dataclass
class Receivables:
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AGE_BUCKETS, 0))
    invoices: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AGE_BUCKETS, 0))
    failed_payments: int = 0
    failed_payments_cents: int = 0

    @property
    def overdue_cents(self) -> int:
        return sum(v for k, v in self.buckets.items() if k != "not due")


def receivables(today: date, currency: str) -> Receivables:
    """Unpaid finalized invoices (what is still due on them) by days past their due date;
    failed payments. "Not due" is exactly the invoices that are not overdue
    (`invoices.selectors.overdue_q`, as the API, the admin and the portal say); one flagged
    overdue before its due date (after the last payment retry) counts in the first bucket."""
    from django.db.models import Case, CharField, Value, When

    from invoices.selectors import overdue_q, unpaid_invoices_with_due
    from payments.models import Payment

    convert = Converter(currency)
    day = timedelta(days=1)
    bucket = Case(
        When(~overdue_q(today), then=Value("not due")),
        When(payment_due_date__gte=today - 30 * day, then=Value("0-30")),
        When(payment_due_date__gte=today - 60 * day, then=Value("31-60")),
        When(payment_due_date__gte=today - 90 * day, then=Value("61-90")),
        default=Value("90+"),
        output_field=CharField(),
    )
    rows = (
        unpaid_invoices_with_due()
        .filter(due_cents__gt=0)
        .annotate(bucket=bucket)
        .values("bucket", "currency")
        .annotate(total=Sum("due_cents"), count=Count("id"))
    )
    result = Receivables()
    for row in rows:
        result.buckets[row["bucket"]] += convert(row["total"] or 0, row["currency"], today) or 0
        result.invoices[row["bucket"]] += row["count"]
    failed = (
        Payment.objects.filter(status=Payment.Status.FAILED)
        .values("currency")
        .annotate(total=Sum("amount_cents"), count=Count("id"))
    )
    for row in failed:
        result.failed_payments += row["count"]
        result.failed_payments_cents += convert(row["total"] or 0, row["currency"], today) or 0
    return result


@dataclass
class OverdueMonth:
    month: date  # the month of the invoices' due date
    amount_cents: int
    lago_invoice_ids: list[str]


def overdue_by_month(
    today: date, currency: str, external_customer_id: str | None = None
) -> list[OverdueMonth]:
    """What is still due on finalized invoices past their due date, by the month of that due
    date: the receivables' overdue buckets (`Receivables.overdue_cents`) per month."""
    from invoices.selectors import unpaid_invoices_with_due

    convert = Converter(currency)
    overdue = unpaid_invoices_with_due().filter(due_cents__gt=0, payment_due_date__lt=today)
    if external_customer_id is not None:
        overdue = overdue.filter(customer__external_id=external_customer_id)
    overdue = overdue.annotate(month=TruncMonth("payment_due_date"))
    rows = (
        overdue.values("month", "currency")
        .annotate(total=Sum("due_cents"))
        .order_by("month", "currency")
    )
    result: dict[date, OverdueMonth] = {}
    for row in rows:
        month = _month_end(row["month"]).replace(day=1)
        entry = result.setdefault(month, OverdueMonth(month, 0, []))
        entry.amount_cents += convert(row["total"] or 0, row["currency"], today) or 0
    for month, lago_id in overdue.order_by("payment_due_date", "id").values_list(
        "month", "lago_id"
    ):
        result[_month_end(month).replace(day=1)].lago_invoice_ids.append(str(lago_id))
    return list(result.values())


# --- ingestion ---------------------------------------------------------------------------------


@dataclass
class Ingestion:
    per_minute: list[tuple[datetime, Decimal]]
    accepted: int
    rejected: dict[str, int]
    late_after_close: int


def ingestion_health(now: datetime, start: date, end: date) -> Ingestion:
    """Events received per minute over the last hour; in the date range: accepted, rejected by
    reason (unknown metric, unknown subscription), and late ones (received after the invoice
    that closed their period was finalized: kept, answered `period_already_invoiced`, not
    billed; an in-advance or progressive invoice leaves its period open)."""
    from invoices.selectors import invoiced_billings
    from usage.models import Event

    hour_ago = now - timedelta(hours=1)
    minutes = (
        Event.objects.filter(created_at__gte=hour_ago, created_at__lte=now)
        .annotate(minute=TruncMinute("created_at", tzinfo=UTC))
        .values("minute")
        .annotate(events=Count("id"))
        .order_by("minute")
    )
    counts = {row["minute"]: row["events"] for row in minutes}
    first = hour_ago.replace(second=0, microsecond=0)
    per_minute = [
        (first + timedelta(minutes=i), Decimal(counts.get(first + timedelta(minutes=i), 0)))
        for i in range(61)
    ]
    lower = datetime.combine(start, datetime.min.time(), tzinfo=UTC)
    upper = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    received = Event.objects.filter(created_at__gte=lower, created_at__lt=upper)
    by_error = dict(
        received.values_list("error_code").annotate(n=Count("id")).values_list("error_code", "n")
    )
    closed = invoiced_billings().filter(
        subscription__external_id=OuterRef("external_subscription_id"),
        charges_from_datetime__lte=OuterRef("timestamp"),
        charges_to_datetime__gt=OuterRef("timestamp"),
        invoice__finalized_at__lt=OuterRef("created_at"),
    )
    late = received.filter(error_code="", already_billed=False).filter(Exists(closed)).count()
    return Ingestion(
        per_minute=per_minute,
        accepted=by_error.pop("", 0),
        rejected=by_error,
        late_after_close=late,
    )
