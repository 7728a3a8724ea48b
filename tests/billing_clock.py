"""Clock-driven helpers for invoice scenarios (the style of tests/invoices/test_period_close.py):
subscribe at a moment, send usage, then run what beat runs at a moment and look at the new
invoices."""

from datetime import UTC, datetime

import time_machine

from customers.services import subscription_create
from customers.tasks import activate_due_subscriptions
from invoices.models import Invoice
from invoices.tasks import bill_due_subscriptions, check_usage_thresholds, finalize_due_drafts
from usage.services import events_ingest


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def subscribe(moment, plan_code, external_id="sub", customer="cust", **extra):
    with time_machine.travel(moment, tick=False):
        return subscription_create(
            data={
                "external_customer_id": customer,
                "plan_code": plan_code,
                "external_id": external_id,
                **extra,
            }
        )


def send(moment, code, value, external_id="sub"):
    """One event of `value` (the metric's `value` field) at `moment`."""
    events_ingest(
        raws=[
            {
                "transaction_id": f"{external_id}-{code}-{moment.isoformat()}-{value}",
                "external_subscription_id": external_id,
                "code": code,
                "timestamp": moment.isoformat(),
                "properties": {"value": value},
            }
        ],
        now=moment,
    )


def run_beat(moment) -> list[Invoice]:
    """What beat does at `moment`: activations, usage thresholds (progressive billing), the
    billing of due subscriptions, the finalization of drafts past their grace period."""
    before = set(Invoice.objects.values_list("pk", flat=True))
    with time_machine.travel(moment, tick=False):
        activate_due_subscriptions()
        check_usage_thresholds()
        bill_due_subscriptions()
        finalize_due_drafts()
    return list(Invoice.objects.exclude(pk__in=before).order_by("issuing_date", "pk"))


def fee_lines(invoice: Invoice) -> list[tuple]:
    """(name, amount, coupon share, taxes) of each fee, in creation order."""
    return [
        (f.invoice_display_name, f.amount_cents, f.coupons_amount_cents, f.taxes_amount_cents)
        for f in invoice.fees.order_by("id")
    ]


def rates(invoice: Invoice) -> list[tuple]:
    """The invoice's tax breakdown: (code, rate, base, amount) per rate."""
    return [
        (t.tax_code, t.tax_rate, t.fees_amount_cents, t.amount_cents)
        for t in invoice.applied_taxes.order_by("tax_code")
    ]


def totals(invoice: Invoice) -> tuple:
    """fees, progressive credit, coupons, subtotal excl. taxes, taxes, total."""
    return (
        invoice.fees_amount_cents,
        invoice.progressive_billing_credit_amount_cents,
        invoice.coupons_amount_cents,
        invoice.sub_total_excluding_taxes_amount_cents,
        invoice.taxes_amount_cents,
        invoice.total_amount_cents,
    )
