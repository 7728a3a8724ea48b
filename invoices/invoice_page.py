"""What the invoice's admin page shows above its form, read-only: the document's own lines (the
PDF's context, tiers included), the deductions in the order they were applied, the credit notes
issued on it, the webhooks sent about it, and for each usage fee a link to the events behind
it. Sections of higher apps (payments) come through `invoice_page_add_section`; invoicing
names no app above it."""

from collections.abc import Callable
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from core import display
from invoices.documents import invoice_document_context
from invoices.models import Fee, Invoice
from webhooks.models import WebhookDelivery

ALL_VALUES = "__ALL_FILTER_VALUES__"  # a charge filter's "any value" (plans.ChargeFilter)

# A section is {"title", "headers", "rows": [[cell, ...]], "empty"}; cells are text or safe HTML.
Section = dict
_SECTIONS: list[Callable[[Invoice], Section | None]] = []


def invoice_page_add_section(section: Callable[[Invoice], Section | None]) -> None:
    """A higher app (payments) adds a section to the invoice page, once."""
    if section not in _SECTIONS:
        _SECTIONS.append(section)


# --- drill-down to the events ------------------------------------------------------------------


def fee_events_query(fee: Fee) -> dict[str, str] | None:
    """The events admin's filters for the events a usage fee priced: its subscription, its
    metric's code, its period [from, to), events meant to be billed; its charge filter's
    values and its pricing group, when it has them. None for fees that price no events."""
    if fee.fee_type != Fee.FeeType.CHARGE or fee.charge_id is None or fee.subscription_id is None:
        return None
    if not fee.from_datetime or not fee.to_datetime or (fee.amount_details or {}).get("true_up"):
        return None
    query = {
        "external_subscription_id": fee.subscription.external_id,
        "code": fee.charge.billable_metric.code,
        "timestamp__gte": fee.from_datetime.isoformat(),
        "timestamp__lt": fee.to_datetime.isoformat(),
        "already_billed__exact": "0",
    }
    if fee.charge_filter is not None:
        for key, values in sorted(fee.charge_filter.values.items()):
            if ALL_VALUES in values:  # any value: the key is there
                query[f"properties__{key}__isnull"] = "0"
            else:
                query[f"properties__{key}__in"] = ",".join(str(value) for value in values)
    for key, value in sorted((fee.grouped_by or {}).items()):
        if value is not None:
            query[f"properties__{key}"] = str(value)
    return query


def fee_events_url(fee: Fee) -> str:
    query = fee_events_query(fee)
    if query is None:
        return ""
    return reverse("admin:usage_event_changelist") + "?" + urlencode(query)


# --- sections --------------------------------------------------------------------------------


def _money(cents: int, invoice: Invoice) -> str:
    return display.money(cents, invoice.currency)


def _link(url: str, text: str) -> str:
    return format_html('<a href="{}">{}</a>', url, text)


def _deductions(invoice: Invoice) -> list[dict]:
    """Each deduction in the order `apply_deductions` takes them: progressive billing already
    invoiced, coupons, (taxes), credit notes, prepaid credits."""
    rows = []
    if invoice.progressive_billing_credit_amount_cents:
        rows.append(
            {
                "step": "Progressive billing",
                "what": "usage already invoiced this period",
                "amount": _money(-invoice.progressive_billing_credit_amount_cents, invoice),
            }
        )
    applications = invoice.coupon_applications.select_related("applied_coupon__coupon")
    for application in applications.order_by("created_at", "id"):
        coupon = application.applied_coupon.coupon
        rows.append(
            {
                "step": "Coupon",
                "what": f"{coupon.name} ({coupon.code})",
                "amount": _money(-application.amount_cents, invoice),
            }
        )
    if invoice.taxes_amount_cents:
        rows.append(
            {
                "step": "Taxes",
                "what": "added",
                "amount": _money(invoice.taxes_amount_cents, invoice),
            }
        )
    notes = invoice.credit_note_applications.select_related("credit_note__invoice")
    for application in notes.order_by("created_at", "id"):
        note = application.credit_note
        url = reverse("admin:invoices_creditnote_change", args=[note.pk])
        rows.append(
            {
                "step": "Credit note",
                "what": format_html(
                    "{} (credit from invoice {})", _link(url, note.number), note.invoice
                ),
                "amount": _money(-application.amount_cents, invoice),
            }
        )
    wallet_rows = invoice.wallet_transactions.filter(transaction_type="outbound")
    for transaction in wallet_rows.select_related("wallet").order_by("created_at", "id"):
        credits = display.units(transaction.credit_amount)
        rows.append(
            {
                "step": "Prepaid credits",
                "what": f"wallet {transaction.wallet.name or transaction.wallet.lago_id}: "
                f"{credits} credits ({transaction.status})",
                "amount": display.money_amount(-transaction.amount, invoice.currency),
            }
        )
    return rows


def _credit_notes(invoice: Invoice) -> Section:
    rows = []
    for note in invoice.credit_notes.order_by("created_at", "id"):
        url = reverse("admin:invoices_creditnote_change", args=[note.pk])
        rows.append(
            [
                _link(url, note.number),
                note.get_reason_display(),
                _money(note.total_amount_cents, invoice),
                _money(note.credit_amount_cents, invoice),
                _money(note.refund_amount_cents, invoice),
                _money(note.offset_amount_cents, invoice),
                " / ".join(s for s in (note.credit_status, note.refund_status) if s),
            ]
        )
    return {
        "title": "Credit notes",
        "headers": ["number", "reason", "total", "credit", "refund", "offset", "status"],
        "rows": rows,
        "empty": "No credit note on this invoice.",
    }


def invoice_webhooks(invoice: Invoice):
    """Webhooks sent about the invoice: its own, its payment's, its credit notes'."""
    lago_id = str(invoice.lago_id)
    about = (
        Q(object_type="invoice", payload__invoice__lago_id=lago_id)
        | Q(object_type="payment", payload__payment__lago_payable_id=lago_id)
        | Q(object_type="credit_note", payload__credit_note__lago_invoice_id=lago_id)
        | Q(
            object_type="payment_provider_invoice_payment_error",
            payload__payment_provider_invoice_payment_error__lago_invoice_id=lago_id,
        )
    )
    deliveries = WebhookDelivery.objects.filter(about, created_at__gte=invoice.created_at)
    return deliveries.select_related("endpoint").order_by("created_at", "id")


def _webhooks(invoice: Invoice) -> Section:
    rows = [
        [
            _link(reverse("admin:webhooks_webhookdelivery_change", args=[d.pk]), d.webhook_type),
            d.endpoint.webhook_url,
            d.status,
            str(d.attempts),
            str(d.last_response_code or ""),
            f"{d.created_at:%Y-%m-%d %H:%M:%S} UTC",
        ]
        for d in invoice_webhooks(invoice)
    ]
    return {
        "title": "Webhooks sent",
        "headers": ["webhook", "endpoint", "status", "attempts", "last response", "created"],
        "rows": rows,
        "empty": "No webhook about this invoice (no endpoint subscribed?).",
    }


def invoice_page_context(invoice: Invoice) -> dict:
    """Everything the page's read-only document section shows."""
    document = invoice_document_context(invoice)
    for row in document["fees"]:
        row["events_url"] = fee_events_url(row["fee"])
    sections = [section for section in (s(invoice) for s in _SECTIONS) if section]
    return {
        "document": document,
        "deductions": _deductions(invoice),
        "sections": [*sections, _credit_notes(invoice), _webhooks(invoice)],
    }
