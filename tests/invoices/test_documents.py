"""Invoice documents: HTML/PDF content per locale, stored once, e-mailed once."""

import html
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from babel.dates import format_date
from babel.numbers import format_currency

from core.errors import RuleViolation
from core.selectors import organization_get
from customers.services import customer_upsert, subscription_create
from invoices import documents
from invoices.documents import (
    invoice_email_send,
    invoice_html_render,
    invoice_pdf_render,
    invoice_pdf_store,
)
from invoices.models import Fee, Invoice, InvoiceSubscription
from tests.factories import make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def seller():
    organization = organization_get()
    organization.name = "Demo AI Inc."
    organization.legal_name = "Demo AI Incorporated"
    organization.email = "billing@demo.example"
    organization.address_line1 = "1 Market Street"
    organization.city = "San Francisco"
    organization.zipcode = "94105"
    organization.state = "CA"
    organization.country = "US"
    organization.tax_identification_number = "US-EIN-12-3456789"
    organization.save()
    return organization


def _invoice(
    *,
    locale="",
    currency="USD",
    number="INV-202401-0001",
    email="ap@acme.example, cfo@acme.example",
    timezone="",
    **totals,
) -> Invoice:
    """A finalized invoice of one monthly subscription: a base fee and a usage charge."""
    make_plan("pro", amount_cents=100000, currency=currency)
    customer, _ = customer_upsert(
        data={
            "external_id": "acme",
            "name": "Acme Corp",
            "legal_name": "Acme Corporation SA",
            "email": email,
            "address_line1": "10 rue de la Paix",
            "city": "Paris",
            "zipcode": "75002",
            "country": "FR",
            "tax_identification_number": "FR12345678901",
            "timezone": timezone or None,
            "billing_configuration": {"document_locale": locale} if locale else {},
            "metadata": [
                {"key": "PO number", "value": "PO-778", "display_in_invoice": True},
                {"key": "crm_id", "value": "secret-crm-42", "display_in_invoice": False},
            ],
        }
    )
    subscription = subscription_create(
        data={
            "external_customer_id": "acme",
            "plan_code": "pro",
            "external_id": "acme-pro",
            "subscription_at": "2024-01-01T05:00:00Z",
        }
    )
    amounts = {
        "fees_amount_cents": 123450,
        "sub_total_excluding_taxes_amount_cents": 123450,
        "taxes_amount_cents": 12345,
        "sub_total_including_taxes_amount_cents": 135795,
        "total_amount_cents": 135795,
        **totals,
    }
    invoice = Invoice.objects.create(
        customer=customer,
        status=Invoice.Status.FINALIZED if number else Invoice.Status.DRAFT,
        currency=currency,
        number=number,
        sequential_id=1 if number else None,
        issuing_date=date(2024, 2, 1),
        payment_due_date=date(2024, 3, 2),
        net_payment_term=30,
        finalized_at=datetime(2024, 2, 1, 5, tzinfo=UTC) if number else None,
        **amounts,
    )
    period = {
        "from_datetime": datetime(2024, 1, 1, 5, tzinfo=UTC),
        "to_datetime": datetime(2024, 2, 1, 5, tzinfo=UTC),
    }
    InvoiceSubscription.objects.create(
        invoice=invoice,
        subscription=subscription,
        boundary=period["to_datetime"],
        invoicing_reason=InvoiceSubscription.Reason.PERIODIC,
        charges_from_datetime=period["from_datetime"],
        charges_to_datetime=period["to_datetime"],
        **period,
    )
    Fee.objects.create(
        invoice=invoice,
        subscription=subscription,
        fee_type=Fee.FeeType.SUBSCRIPTION,
        invoice_display_name="Pro plan",
        units=Decimal(1),
        precise_unit_amount=Decimal(1000),
        precise_amount=Decimal(1000),
        amount_cents=100000 if currency == "USD" else 1000,
        amount_currency=currency,
        **period,
    )
    Fee.objects.create(
        invoice=invoice,
        subscription=subscription,
        fee_type=Fee.FeeType.CHARGE,
        description="API calls",
        units=Decimal(15000),
        precise_unit_amount=Decimal("0.015633333333333"),
        precise_amount=Decimal("234.499999999995"),
        amount_cents=23450 if currency == "USD" else 234,
        amount_currency=currency,
        **period,
    )
    return invoice


def _text(invoice: Invoice) -> str:
    return html.unescape(invoice_html_render(invoice=invoice))


def _usd(amount: str, locale: str) -> str:
    return format_currency(Decimal(amount), "USD", locale=locale)


def test_pdf_is_a_pdf(seller):
    assert invoice_pdf_render(invoice=_invoice()).startswith(b"%PDF")


def test_english_document_shows_seller_buyer_number_fees_and_totals(seller):
    text = _text(_invoice(prepaid_credit_amount_cents=5000, total_amount_cents=130795))
    for expected in (
        "Demo AI Inc.",
        "Demo AI Incorporated",
        "1 Market Street",
        "San Francisco, CA 94105",  # the US way: city, state ZIP
        "United States",
        "US-EIN-12-3456789",
        "billing@demo.example",
        "Acme Corp",
        "Acme Corporation SA",
        "75002 Paris",
        "France",
        "FR12345678901",
        "PO number: PO-778",
        "Invoice number",
        "INV-202401-0001",
        "February 1, 2024",
        "March 2, 2024",
        "Net 30 days",
        "Pro plan",
        "API calls",
        "15,000",
        "$0.015633",  # precise unit price, 6 decimals at most
        "$1,000.00",
        "$234.50",
        "Subtotal (excl. taxes)",
        "$1,234.50",
        "Taxes",
        "$123.45",
        "Prepaid credits",
        "-$50.00",
        "Amount due",
        "$1,307.95",
    ):
        assert expected in text, expected
    assert "94105 San Francisco" not in text
    assert "secret-crm-42" not in text  # metadata not meant for invoices
    assert "Credit notes" not in text  # zero deductions are left out
    assert "DRAFT" not in text


def test_billing_period_is_shown_in_local_dates_with_an_exclusive_end(seller):
    text = _text(_invoice(timezone="America/New_York"))
    assert "January 1, 2024 \N{EN DASH} January 31, 2024" in text


def test_french_labels_and_amounts(seller):
    text = _text(_invoice(locale="fr"))
    for expected in ("Facture", "Numéro de facture", "Date d'émission", "Montant dû"):
        assert expected in text, expected
    assert "Paiement à 30 jours" in text
    assert _usd("1234.50", "fr") in text
    assert _usd("1357.95", "fr") in text
    assert format_date(date(2024, 2, 1), format="long", locale="fr") in text
    assert "Invoice number" not in text


def test_german_labels_from_the_organization_locale(seller):
    seller.document_locale = "de"
    seller.save()
    text = _text(_invoice())
    for expected in ("Rechnung", "Rechnungsnummer", "Fälliger Betrag", "Zwischensumme (netto)"):
        assert expected in text, expected
    assert _usd("1234.50", "de") in text
    assert "1. Februar 2024" in text


def test_jpy_amounts_have_no_decimals(seller):
    text = _text(
        _invoice(
            currency="JPY",
            fees_amount_cents=1234,
            sub_total_excluding_taxes_amount_cents=1234,
            taxes_amount_cents=123,
            sub_total_including_taxes_amount_cents=1357,
            total_amount_cents=1357,
        )
    )
    assert format_currency(Decimal(1357), "JPY", locale="en") in text
    assert "¥1,357" in text
    assert "¥1,357.00" not in text
    assert "¥1,000" in text


def test_draft_is_rendered_on_demand_but_not_stored(seller):
    invoice = _invoice(number=None)
    assert "DRAFT" in _text(invoice)
    assert invoice_pdf_render(invoice=invoice).startswith(b"%PDF")
    with pytest.raises(RuleViolation):
        invoice_pdf_store(invoice=invoice)
    invoice.refresh_from_db()
    assert not invoice.file


def test_store_is_idempotent(seller, monkeypatch, media_root):
    invoice = invoice_pdf_store(invoice=_invoice())
    assert invoice.file.name.endswith("invoice-INV-202401-0001.pdf")
    with invoice.file.open("rb") as pdf:
        assert pdf.read().startswith(b"%PDF")

    def fail(**kwargs):
        raise AssertionError("rendered twice")

    monkeypatch.setattr(documents, "invoice_pdf_render", fail)
    again = invoice_pdf_store(invoice=invoice)
    assert again.file.name == invoice.file.name
    assert len(list(media_root.rglob("*.pdf"))) == 1


def test_email_sends_the_pdf_to_every_address_once(seller, mailoutbox):
    invoice = _invoice()
    assert invoice_email_send(invoice=invoice) is True
    assert invoice_email_send(invoice=invoice) is False  # a retried task sends nothing
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ap@acme.example", "cfo@acme.example"]
    assert message.subject == "Invoice INV-202401-0001 from Demo AI Inc."
    assert message.reply_to == ["billing@demo.example"]
    assert "$1,357.95" in message.body
    [(name, content, mimetype)] = message.attachments
    assert name == "invoice-INV-202401-0001.pdf"
    assert content.startswith(b"%PDF")
    assert mimetype == "application/pdf"
    invoice.refresh_from_db()
    assert invoice.email_sent_at is not None
    assert invoice.file


def test_email_force_resends_in_the_customer_language(seller, mailoutbox):
    invoice = _invoice(locale="fr")
    invoice_email_send(invoice=invoice)
    assert invoice_email_send(invoice=invoice, force=True) is True
    assert len(mailoutbox) == 2
    assert mailoutbox[1].subject == "Facture INV-202401-0001 de Demo AI Inc."
    assert _usd("1357.95", "fr") in mailoutbox[1].body


def test_no_email_for_drafts_or_customers_without_address(seller, mailoutbox):
    draft = _invoice(number=None)
    assert invoice_email_send(invoice=draft) is False
    Invoice.objects.filter(pk=draft.pk).update(status=Invoice.Status.FINALIZED, number="INV-1")
    draft.customer.email = ""
    draft.customer.save()
    assert invoice_email_send(invoice=draft) is False
    assert mailoutbox == []
    draft.refresh_from_db()
    assert draft.email_sent_at is None


def test_documents_never_fetch_from_the_network():
    fetcher = documents._LocalOnlyFetcher()
    for url in ("https://example.com/logo.png", "http://example.com/x.css", "file:///etc/passwd"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    stylesheet = (documents.STATIC_DIR / "invoice_pdf.css").as_uri()
    assert b"@page" in fetcher.fetch(stylesheet).read()
