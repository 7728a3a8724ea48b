"""Invoice documents: the HTML/PDF rendering (WeasyPrint, never the network) and the e-mail.

Amounts come from the invoice's stored minor units (`core.money.from_minor_units`); nothing is
rounded here. Words come from `invoices.labels`, numbers and dates from babel (CLDR).
"""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname
from zoneinfo import ZoneInfo

import weasyprint
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint.urls import URLFetcher

from core import display
from core.addresses import party_address_lines
from core.errors import RuleViolation
from core.money import to_minor_units
from core.selectors import organization_get
from customers.selectors import customer_timezone
from invoices.amount_details import graduated_ranges
from invoices.labels import label
from invoices.models import Invoice

TEMPLATE = "invoices/invoice_pdf.html"
STATIC_DIR = Path(__file__).resolve().parent / "static" / "invoices"


# --- formatting ------------------------------------------------------------------------------


def invoice_locale(invoice: Invoice) -> str:
    """The customer's document locale, else the organization's, else English."""
    for code in (invoice.customer.document_locale, organization_get().document_locale):
        try:
            if code:
                return str(Locale.parse(code.replace("-", "_")))
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return "en"


def money_format(cents: int, currency: str, locale: str) -> str:
    """A billed amount exactly as stored, e.g. 1 234,50 $US in fr (core.display)."""
    return display.money(cents, currency, locale)


def unit_price_format(amount: Decimal, currency: str, locale: str) -> str:
    """A precise unit price: the currency's decimals, and more (up to 6) when they matter."""
    return display.unit_price(amount, currency, locale)


def units_format(units: Decimal, locale: str) -> str:
    """Units without the 12 stored trailing zeros."""
    return display.units(units, locale)


# --- document content ------------------------------------------------------------------------


def _seller(organization, locale: str) -> dict:
    legal_name = organization.legal_name if organization.legal_name != organization.name else ""
    return {
        "name": organization.name,
        "legal_name": legal_name,
        "address": party_address_lines(organization, locale),
        "tax_id": organization.tax_identification_number,
        "email": organization.email,
        "legal_number": organization.legal_number,
        "footer": organization.invoice_footer,
    }


def _buyer(customer, locale: str) -> dict:
    legal_name = customer.legal_name if customer.legal_name != customer.display_name else ""
    return {
        "name": customer.display_name,
        "legal_name": legal_name,
        "address": party_address_lines(customer, locale),
        "tax_id": customer.tax_identification_number,
        "metadata": list(customer.metadata.filter(display_in_invoice=True).order_by("key")),
    }


def _billing_periods(invoice: Invoice, locale: str) -> list[dict]:
    """Local dates in the customer's zone; the end bound is exclusive, so its last second."""
    zone = ZoneInfo(customer_timezone(invoice.customer))
    billings = invoice.billings.select_related("subscription__plan").order_by("from_datetime", "id")
    periods = []
    for billing in billings:
        start = billing.from_datetime.astimezone(zone).date()
        end = max(start, (billing.to_datetime - timedelta(seconds=1)).astimezone(zone).date())
        period = {
            "name": billing.subscription.name or billing.subscription.plan.name,
            "from": format_date(start, format="long", locale=locale),
            "to": format_date(end, format="long", locale=locale),
        }
        if period not in periods:
            periods.append(period)
    return periods


def _prorated_lines(fee, currency: str, locale: str) -> list[str]:
    """A prorated fee's arithmetic, one line per days count: "1 x 22/30 days x $10.00" (with
    multiplication signs)."""
    return [
        label(
            locale,
            "prorated_line",
            units=units_format(Decimal(line["units"]), locale),
            days=line["days"],
            period_days=line["period_days"],
            price=unit_price_format(Decimal(line["per_unit_amount"]), currency, locale),
        )
        for line in (fee.amount_details or {}).get("prorated") or []
    ]


def _row(label_text: str, units, unit_price: str, amount: Decimal, currency: str, locale: str):
    """One line of a fee's arithmetic: units x unit price = amount (rounded like a fee)."""
    return {
        "label": label_text,
        "units": units_format(Decimal(units), locale),
        "unit_price": unit_price,
        "amount": money_format(to_minor_units(Decimal(amount), currency), currency, locale),
    }


def _range_text(tier: dict, locale: str) -> str:
    low = units_format(Decimal(str(tier["from_value"])), locale)
    if tier.get("to_value") is None:
        return label(locale, "tier_above", low=low)
    high = units_format(Decimal(str(tier["to_value"])), locale)
    return label(locale, "tier_range", low=low, high=high)


def _graduated_rows(kind: str, ranges: list[dict], currency: str, locale: str) -> list[dict]:
    """Lago's graduated lines: each tier's units at its price (or rate), then its flat fee."""
    rows = []
    for tier in ranges:
        if kind == "graduated_percentage":
            price = display.rate(tier["rate"], locale)
        else:
            price = unit_price_format(Decimal(tier["per_unit_amount"]), currency, locale)
        span = _range_text(tier, locale)
        total = tier["per_unit_total_amount"]
        rows.append(_row(span, tier["units"], price, total, currency, locale))
        flat = Decimal(tier["flat_unit_amount"])
        if flat:
            flat_price = unit_price_format(flat, currency, locale)
            flat_label = label(locale, "tier_flat", range=span)
            rows.append(_row(flat_label, 1, flat_price, flat, currency, locale))
    return rows


def _volume_rows(fee, details: dict, currency: str, locale: str) -> list[dict]:
    price = Decimal(details["per_unit_amount"])
    units = Decimal(details.get("prorated_units") or fee.units)
    rows = [
        _row(
            label(locale, "volume_units"),
            units,
            unit_price_format(price, currency, locale),
            details["per_unit_total_amount"],
            currency,
            locale,
        )
    ]
    flat = Decimal(details.get("flat_unit_amount") or 0)
    if flat:
        flat_price = unit_price_format(flat, currency, locale)
        rows.append(_row(label(locale, "volume_flat"), 1, flat_price, flat, currency, locale))
    return rows


def _package_rows(fee, details: dict, currency: str, locale: str) -> list[dict]:
    zero = money_format(0, currency, locale)
    size = units_format(Decimal(str(details["per_package_size"])), locale)
    rows = []
    if Decimal(details["free_units"]):
        rows.append(
            _row(label(locale, "package_free"), details["free_units"], zero, 0, currency, locale)
        )
    package_price = unit_price_format(Decimal(details["per_package_unit_amount"]), currency, locale)
    rows.append(
        {
            **_row(
                label(locale, "package_paid", size=size),
                details["paid_units"],
                f"{package_price} / {size}",
                0,
                currency,
                locale,
            ),
            "amount": money_format(fee.amount_cents, currency, locale),
        }
    )
    return rows


def _percentage_rows(details: dict, currency: str, locale: str) -> list[dict]:
    if "paid_units" not in details:
        return []
    zero = money_format(0, currency, locale)
    rows = []
    if Decimal(details["free_units"]):
        free = label(locale, "percentage_free", events=details["free_events"])
        rows.append(_row(free, details["free_units"], zero, 0, currency, locale))
    rate_row = _row(
        label(locale, "percentage_rate"),
        details["paid_units"],
        display.rate(details["rate"], locale),
        details["per_unit_total_amount"],
        currency,
        locale,
    )
    rows.append(rate_row)
    fixed = Decimal(details["fixed_fee_unit_amount"])
    if fixed:
        fixed_price = unit_price_format(fixed, currency, locale)
        total = details["fixed_fee_total_amount"]
        fixed_label = label(locale, "percentage_fixed")
        rows.append(_row(fixed_label, details["paid_events"], fixed_price, total, currency, locale))
    adjustment = Decimal(details["min_max_adjustment_total_amount"])
    if adjustment:
        price = unit_price_format(adjustment, currency, locale)
        adjust = label(locale, "percentage_adjustment")
        rows.append(_row(adjust, 1, price, adjustment, currency, locale))
    return rows


def _breakdown(fee, currency: str, locale: str) -> list[dict]:
    """How a usage fee's amount was reached, from its Lago amount_details (as Lago's PDF):
    tiers with their flat fees, a volume tier, packages, a percentage's parts."""
    details = fee.amount_details or {}
    kind, ranges = graduated_ranges(details)
    if ranges:
        return _graduated_rows(kind, ranges, currency, locale)
    model = fee.charge.charge_model if fee.charge_id else ""
    if model == "volume" and "per_unit_total_amount" in details:
        return _volume_rows(fee, details, currency, locale)
    if model == "package" and "per_package_size" in details:
        return _package_rows(fee, details, currency, locale)
    if model == "percentage":
        return _percentage_rows(details, currency, locale)
    return []


def fee_rows(invoice: Invoice, locale: str) -> list[dict]:
    """The invoice's lines as its document prints them (the admin's invoice page shows the
    same): a fee with a breakdown shows no blended unit price, its lines do the arithmetic."""
    rows = []
    fees = invoice.fees.select_related("charge__billable_metric", "charge_filter", "subscription")
    for fee in fees.order_by("id"):
        breakdown = _breakdown(fee, invoice.currency, locale) if fee.charge_id else []
        unit_price = unit_price_format(fee.precise_unit_amount, invoice.currency, locale)
        rows.append(
            {
                "fee": fee,
                "name": fee.invoice_display_name
                or fee.description
                or label(locale, f"fee_{fee.fee_type}"),
                "units": units_format(fee.units, locale),
                "unit_price": "" if breakdown else unit_price,
                "amount": money_format(fee.amount_cents, invoice.currency, locale),
                "details": _prorated_lines(fee, invoice.currency, locale),
                "breakdown": breakdown,
            }
        )
    return rows


def _total_rows(invoice: Invoice, locale: str) -> list[dict]:
    """Subtotals and taxes always; deductions only when non-zero (amount due is separate)."""
    rows = [
        ("coupons", -invoice.coupons_amount_cents, False),
        ("progressive_billing_credit", -invoice.progressive_billing_credit_amount_cents, False),
        ("subtotal_excluding_taxes", invoice.sub_total_excluding_taxes_amount_cents, True),
        *_tax_rows(invoice),
        ("total", invoice.sub_total_including_taxes_amount_cents, True),
        ("credit_notes", -invoice.credit_notes_amount_cents, False),
        ("prepaid_credits", -invoice.prepaid_credit_amount_cents, False),
    ]
    return [
        {
            "label": _tax_label(key, locale, invoice),
            "amount": money_format(cents, invoice.currency, locale),
        }
        for key, cents, always in rows
        if always or cents
    ]


def _tax_rows(invoice: Invoice) -> list[tuple]:
    """One line per tax rate (with its base), or a single zero Taxes line when none."""
    applied = list(invoice.applied_taxes.all())
    if not applied:
        return [("taxes", invoice.taxes_amount_cents, True)]
    return [(("tax", t), t.amount_cents, True) for t in applied]


def _tax_label(key, locale: str, invoice: Invoice) -> str:
    if not isinstance(key, tuple):
        return label(locale, key)
    tax = key[1]
    base = money_format(tax.fees_amount_cents, invoice.currency, locale)
    return f"{tax.tax_name} ({display.units(tax.tax_rate, locale)} %, {base})"


def _payment_terms(invoice: Invoice, locale: str) -> str:
    if not invoice.net_payment_term:
        return label(locale, "due_on_receipt")
    return label(locale, "net_days", days=invoice.net_payment_term)


def _status_stamp(invoice: Invoice, locale: str) -> str:
    if invoice.status == Invoice.Status.VOIDED:
        return label(locale, "voided")
    return label(locale, "draft") if invoice.number is None else ""


def invoice_document_context(invoice: Invoice) -> dict:
    """What the document prints (the invoice admin page shows the same lines)."""
    locale = invoice_locale(invoice)
    return {
        "language": Locale.parse(locale).language,
        "labels": {key: label(locale, key) for key in _TEMPLATE_LABELS},
        "number": invoice.number or label(locale, "draft"),
        "stamp": _status_stamp(invoice, locale),
        "issuing_date": format_date(invoice.issuing_date, format="long", locale=locale),
        "payment_due_date": format_date(invoice.payment_due_date, format="long", locale=locale),
        "payment_terms": _payment_terms(invoice, locale),
        "seller": _seller(organization_get(), locale),
        "buyer": _buyer(invoice.customer, locale),
        "periods": _billing_periods(invoice, locale),
        "fees": fee_rows(invoice, locale),
        "totals": _total_rows(invoice, locale),
        "amount_due": money_format(invoice.total_amount_cents, invoice.currency, locale),
        "tax_mentions": [t.mention for t in invoice.applied_taxes.all() if t.mention],
        "tax_notes": (invoice.tax_details or {}).get("notes", []),
        "fx_note": _fx_note(invoice, locale),
    }


def _fx_note(invoice: Invoice, locale: str) -> str:
    """The rate amounts were converted at, when the plan had no price in this currency."""
    fx = invoice.fx_details or {}
    if not fx.get("rate"):
        return ""
    rate = display.units(fx["rate"], locale, max_decimals=8)
    return label(locale, "fx_note", source=fx["from"], target=fx["to"], rate=rate, date=fx["date"])


_TEMPLATE_LABELS = (
    "invoice",
    "invoice_number",
    "issuing_date",
    "payment_due_date",
    "payment_terms",
    "from",
    "bill_to",
    "tax_id",
    "email",
    "billing_period",
    "item",
    "units",
    "unit_price",
    "amount",
    "amount_due",
)


# --- rendering -------------------------------------------------------------------------------


class _LocalOnlyFetcher(URLFetcher):
    """Only our stylesheet folder and data: URIs: a PDF never waits on, nor leaks to, the web."""

    def fetch(self, url, headers=None):
        parsed = urlparse(url)
        if parsed.scheme == "data":
            return super().fetch(url, headers)
        path = Path(url2pathname(parsed.path)).resolve()
        if parsed.scheme != "file" or not path.is_relative_to(STATIC_DIR):
            raise ValueError(f"invoice documents fetch no external resource: {url}")
        return super().fetch(url, headers)


def invoice_html_render(*, invoice: Invoice) -> str:
    """The document as HTML: what the PDF shows, and what tests can read."""
    return render_to_string(TEMPLATE, invoice_document_context(invoice))


def invoice_pdf_render(*, invoice: Invoice) -> bytes:
    """The PDF, built from local files only (drafts are rendered on demand, never stored)."""
    document = weasyprint.HTML(
        string=invoice_html_render(invoice=invoice),
        base_url=STATIC_DIR.as_uri() + "/",
        url_fetcher=_LocalOnlyFetcher(allowed_protocols=("file", "data")),
    )
    return document.write_pdf()


def invoice_file_name(invoice: Invoice) -> str:
    return f"invoice-{invoice.number or invoice.lago_id}.pdf"


def _has_stored_file(invoice: Invoice) -> bool:
    return bool(invoice.file) and invoice.file.storage.exists(invoice.file.name)


def invoice_pdf_store(*, invoice: Invoice) -> Invoice:
    """Render and keep a numbered invoice's PDF once: a task run twice stores one file.

    Rendering happens outside any transaction (it takes a while and must not hold a lock);
    the file is attached under a short row lock, keeping the first one stored."""
    invoice = Invoice.objects.select_related("customer").get(pk=invoice.pk)
    if invoice.number is None:
        raise RuleViolation("invoice_not_finalized", "A draft invoice's PDF is not stored.")
    if _has_stored_file(invoice):
        return invoice
    pdf = invoice_pdf_render(invoice=invoice)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().select_related("customer").get(pk=invoice.pk)
        if not _has_stored_file(invoice):
            invoice.file.save(invoice_file_name(invoice), ContentFile(pdf), save=False)
            invoice.save(update_fields=["file", "updated_at"])
    return invoice


# --- e-mail ----------------------------------------------------------------------------------


def invoice_recipients(invoice: Invoice) -> list[str]:
    """Customer.email may hold several comma-separated addresses (as in Lago)."""
    return [address.strip() for address in invoice.customer.email.split(",") if address.strip()]


def _email_message(invoice: Invoice, recipients: list[str]) -> EmailMessage:
    locale, organization = invoice_locale(invoice), organization_get()
    body = label(
        locale,
        "email_body",
        customer=invoice.customer.display_name,
        number=invoice.number,
        amount=money_format(invoice.total_amount_cents, invoice.currency, locale),
        due_date=format_date(invoice.payment_due_date, format="long", locale=locale),
        seller=organization.name,
    )
    message = EmailMessage(
        subject=label(locale, "email_subject", number=invoice.number, seller=organization.name),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        reply_to=[organization.email] if organization.email else None,
    )
    with invoice.file.open("rb") as pdf:
        message.attach(invoice_file_name(invoice), pdf.read(), "application/pdf")
    return message


def invoice_email_send(*, invoice: Invoice, force: bool = False) -> bool:
    """E-mail a finalized invoice's PDF once (force=True resends, e.g. from the admin).

    Sent outside any transaction (no lock held on a slow mail server) and recorded after
    sending: a crash in between may resend, never lose it."""
    invoice = Invoice.objects.select_related("customer").get(pk=invoice.pk)
    recipients = invoice_recipients(invoice)
    if invoice.status != Invoice.Status.FINALIZED or not recipients:
        return False
    if invoice.email_sent_at is not None and not force:
        return False
    invoice = invoice_pdf_store(invoice=invoice)
    _email_message(invoice, recipients).send()
    Invoice.objects.filter(pk=invoice.pk).update(email_sent_at=timezone.now())
    invoice.refresh_from_db(fields=["email_sent_at", "updated_at"])
    return True


# --- credit notes ----------------------------------------------------------------------------

CREDIT_NOTE_TEMPLATE = "invoices/credit_note_pdf.html"


def _credit_note_context(note) -> dict:
    invoice = note.invoice
    locale = invoice_locale(invoice)
    keys = (
        "credit_note",
        "credited_invoice",
        "issuing_date",
        "reason",
        "from",
        "bill_to",
        "tax_id",
        "item",
        "amount",
    )
    rows = [  # items are before coupons: the coupons' share comes off first (Lago)
        ("coupons", -note.coupons_adjustment_amount_cents),
        ("subtotal_excluding_taxes", note.sub_total_excluding_taxes_amount_cents),
        ("taxes", note.taxes_amount_cents),
        ("total", note.total_amount_cents),
        ("credited_as_credit", note.credit_amount_cents),
        ("refunded", note.refund_amount_cents),
        ("offset", note.offset_amount_cents),
    ]
    return {
        "language": Locale.parse(locale).language,
        "labels": {key: label(locale, key) for key in keys},
        "number": note.number,
        "invoice_number": invoice.number,
        "stamp": label(locale, "voided") if note.credit_status == "voided" else "",
        "issuing_date": format_date(note.created_at.date(), format="long", locale=locale),
        "reason": note.get_reason_display(),
        "seller": _seller(organization_get(), locale),
        "buyer": _buyer(invoice.customer, locale),
        "items": [
            {
                "name": item.fee.invoice_display_name or item.fee.description,
                "amount": money_format(item.amount_cents, note.currency, locale),
            }
            for item in note.items.select_related("fee")
        ],
        "totals": [
            {"label": label(locale, key), "amount": money_format(cents, note.currency, locale)}
            for key, cents in rows
            if cents or key in ("subtotal_excluding_taxes", "total")
        ],
    }


def credit_note_pdf_render(*, note) -> bytes:
    """A credit note's PDF, from the same local stylesheet as invoices."""
    html = render_to_string(CREDIT_NOTE_TEMPLATE, _credit_note_context(note))
    document = weasyprint.HTML(
        string=html,
        base_url=STATIC_DIR.as_uri() + "/",
        url_fetcher=_LocalOnlyFetcher(allowed_protocols=("file", "data")),
    )
    return document.write_pdf()
