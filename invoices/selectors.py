"""Reads for reports: revenue by month and currency, in the base currency too."""

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import models
from django.db.models import (
    BigIntegerField,
    Count,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from core.fx import fx_rate_or_none
from core.money import from_minor_units, to_minor_units
from core.selectors import organization_get
from invoices.models import CreditNote, Fee, Invoice, InvoiceSubscription


@dataclass
class RevenueRow:
    month: date
    currency: str
    invoices: int
    revenue_cents: int  # excluding taxes, in `currency`
    taxes_cents: int
    base_currency: str
    base_revenue_cents: int | None  # None when no FX rate is known


def revenue_by_month(*, start: date | None = None, end: date | None = None) -> list[RevenueRow]:
    """Finalized invoices grouped in SQL by issuing month and currency; each group converted to
    the organization's base currency at the rate of the month's last day."""
    rows = Invoice.objects.filter(status=Invoice.Status.FINALIZED)
    if start:
        rows = rows.filter(issuing_date__gte=start)
    if end:
        rows = rows.filter(issuing_date__lte=end)
    grouped = (
        rows.annotate(month=TruncMonth("issuing_date"))
        .values("month", "currency")
        .annotate(
            invoices=Count("id"),
            revenue=Sum("sub_total_excluding_taxes_amount_cents"),
            taxes=Sum("taxes_amount_cents"),
        )
        .order_by("-month", "currency")
    )
    base = organization_get().default_currency
    return [_row(group, base) for group in grouped]


def _row(group: dict, base: str) -> RevenueRow:
    month = group["month"]
    month = month.date() if hasattr(month, "date") else month
    last_day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    rate = fx_rate_or_none(base=group["currency"], quote=base, on=last_day)
    converted = None
    if rate is not None:
        amount = from_minor_units(group["revenue"] or 0, group["currency"]) * rate
        converted = to_minor_units(amount, base)
    return RevenueRow(
        month=month,
        currency=group["currency"],
        invoices=group["invoices"],
        revenue_cents=group["revenue"] or 0,
        taxes_cents=group["taxes"] or 0,
        base_currency=base,
        base_revenue_cents=converted,
    )


def invoice_due_cents(invoice: Invoice) -> int:
    """What is still owed on an invoice (Lago's total_due_amount_cents): nothing once paid or
    voided, else its total minus what credit notes offset on it and manual payments paid.
    What collection charges."""
    if invoice.status == Invoice.Status.VOIDED or invoice.payment_status == "succeeded":
        return 0
    offset = invoice.credit_notes.aggregate(total=Sum("offset_amount_cents"))["total"] or 0
    return max(invoice.total_amount_cents - offset - invoice.total_paid_amount_cents, 0)


def unpaid_invoices_with_due():
    """Finalized invoices not paid yet, each annotated with `due_cents` (its total minus the
    credit-note offsets on it, in SQL), for sums of what customers owe."""
    offsets = (
        CreditNote.objects.filter(invoice=OuterRef("pk"))
        .values("invoice")
        .annotate(total=Sum("offset_amount_cents"))
        .values("total")
    )
    return (
        Invoice.objects.filter(status=Invoice.Status.FINALIZED)
        .exclude(payment_status=Invoice.PaymentStatus.SUCCEEDED)
        .annotate(
            due_cents=F("total_amount_cents")
            - F("total_paid_amount_cents")
            - Coalesce(Subquery(offsets, output_field=BigIntegerField()), Value(0))
        )
    )


# --- late events: usage of a period whose invoice is finalized ----------------------------------

# The billings that close a period's charges. In-advance and progressive runs are left out: their
# windows cover a period still open, whose closing invoice bills later events as usual.
PERIOD_CLOSES = (
    InvoiceSubscription.Reason.STARTING,
    InvoiceSubscription.Reason.PERIODIC,
    InvoiceSubscription.Reason.TERMINATING,
)


def invoiced_billings():
    """Billings that closed their charges window with an invoice since finalized: usage timed in
    that window and received after `invoice.finalized_at` is late (Lago: kept, never billed; a
    draft in its grace period still takes it)."""
    return InvoiceSubscription.objects.filter(
        invoicing_reason__in=PERIOD_CLOSES, invoice__finalized_at__isnull=False
    )


def events_in_invoiced_periods(
    *, events: dict[int, tuple[str, datetime]], now: datetime
) -> dict[int, str]:
    """Of `events` (key -> external subscription id, timestamp), those whose period's invoice
    was finalized at or before `now`: key -> that invoice's lago id. One query per call."""
    if not events:
        return {}
    stamps = [timestamp for _, timestamp in events.values()]
    windows = (
        invoiced_billings()
        .filter(
            subscription__external_id__in={sub for sub, _ in events.values()},
            invoice__finalized_at__lte=now,
            charges_from_datetime__lte=max(stamps),
            charges_to_datetime__gt=min(stamps),
        )
        .values_list(
            "subscription__external_id",
            "charges_from_datetime",
            "charges_to_datetime",
            "invoice__lago_id",
        )
    )
    by_subscription: dict[str, list[tuple[datetime, datetime, str]]] = {}
    for external_id, lower, upper, invoice_id in windows:
        by_subscription.setdefault(external_id, []).append((lower, upper, str(invoice_id)))
    late = {}
    for key, (external_id, timestamp) in events.items():
        for lower, upper, invoice_id in by_subscription.get(external_id, ()):
            if lower <= timestamp < upper:
                late[key] = invoice_id
                break
    return late


# --- overdue -------------------------------------------------------------------------------------
# One definition, read by the API, the admin, the portal and the dashboard: an invoice is overdue
# when it is finalized, something is to be paid on it (total above zero, not paid, no lost
# dispute) and its payment due date has passed, i.e. is before today (UTC, the day the billing
# clock and the dashboard count in); or when collection flagged it after the last retry. The
# stored `payment_overdue` flag follows (`invoices_mark_overdue`, at the first beat run of the
# day and when an invoice is finalized already past due) and carries the webhook; reads do not
# wait for it, so none of them can disagree with another, or lag behind the calendar.


def overdue_today(now: datetime | None = None) -> date:
    """The day due dates are compared with: the UTC date of `now`."""
    return (now or timezone.now()).astimezone(UTC).date()


def past_due_q(today: date) -> Q:
    """Finalized, unpaid invoices with an amount whose due date is before `today`."""
    return Q(
        status=Invoice.Status.FINALIZED,
        payment_due_date__lt=today,
        total_amount_cents__gt=0,
        payment_dispute_lost_at__isnull=True,
    ) & ~Q(payment_status=Invoice.PaymentStatus.SUCCEEDED)


def overdue_q(today: date | None = None) -> Q:
    """Overdue on `today` (default: now): past due, or flagged by collection."""
    return Q(payment_overdue=True) | past_due_q(today or overdue_today())


def invoice_is_overdue(invoice: Invoice, today: date | None = None) -> bool:
    """The same definition for one invoice already loaded."""
    if invoice.payment_overdue:
        return True
    return (
        invoice.status == Invoice.Status.FINALIZED
        and invoice.payment_due_date is not None
        and invoice.payment_due_date < (today or overdue_today())
        and invoice.total_amount_cents > 0
        and invoice.payment_dispute_lost_at is None
        and invoice.payment_status != Invoice.PaymentStatus.SUCCEEDED
    )


FEE_LIST_VISIBLE = [Invoice.Status.DRAFT, Invoice.Status.FINALIZED, Invoice.Status.VOIDED]
# Lago's fee payment timestamps; a fee's payment status is its invoice's here (every fee is on
# an invoice), and so is the moment it last changed. No invoice is ever "refunded".
_STATUS_RANGES = {"succeeded_at": "succeeded", "failed_at": "failed", "refunded_at": "refunded"}


def fees_visible():
    """Fees of invoices the API shows (a closed zero invoice is internal), with what the
    renderer reads."""
    return (
        Fee.objects.filter(invoice__status__in=FEE_LIST_VISIBLE)
        .select_related(
            "invoice__customer",
            "charge__billable_metric",
            "charge_filter",
            "subscription",
            "true_up_parent",
        )
        .prefetch_related("applied_taxes")
    )


def fees_search(*, filters: dict, ranges: dict) -> "models.QuerySet[Fee]":
    """Lago's GET /fees filters. `filters` holds the plain ones (already read from the query
    string), `ranges` maps created_at / succeeded_at / failed_at / refunded_at to (from, to)."""
    rows = fees_visible().order_by("-created_at", "-id")
    plain = {
        "external_customer_id": "invoice__customer__external_id",
        "external_subscription_id": "subscription__external_id",
        "currency": "amount_currency",
        "fee_type": "fee_type",
        "payment_status": "invoice__payment_status",
        "billable_metric_code": "charge__billable_metric__code",
    }
    for name, lookup in plain.items():
        if filters.get(name):
            rows = rows.filter(**{lookup: filters[name]})
    if filters.get("event_transaction_id"):
        rows = rows.none()  # in-advance fees bill a period's delta, never one event
    for name, (start, end) in ranges.items():
        rows = _in_range(rows, name, start, end)
    return rows


def _in_range(rows, name: str, start, end):
    if start is None and end is None:
        return rows
    if name == "created_at":
        column = "created_at"
    else:
        rows = rows.filter(invoice__payment_status=_STATUS_RANGES[name])
        column = "invoice__payment_status_changed_at"
    if start is not None:
        rows = rows.filter(**{f"{column}__gte": start})
    if end is not None:
        rows = rows.filter(**{f"{column}__lte": end})
    return rows
