"""GDPR: export everything held about a customer (a ZIP of JSON files and the invoice PDFs),
and erase its personal data while keeping the invoices the law requires us to keep.

Erasure replaces the name, contact and address fields, drops its metadata and portal logins,
and pushes the erased record to Stripe; a company's legal name, registration number and VAT
number stay (they are not personal data and future tax decisions need them), invoices and
credit notes stay as issued (legal retention), usage events stay (they carry no contact
data of ours; what a sender put in their properties is the sender's). The audit trail records
the erasure without the values (core.auditing never keeps personal values)."""

import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.auditing import because
from core.errors import RuleViolation
from customers.locks import lock_customer
from customers.models import Customer

ERASED_FIELDS = (
    "name",
    "firstname",
    "lastname",
    "email",
    "phone",
    "url",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zipcode",
)
INDIVIDUAL_FIELDS = ("legal_name", "legal_number", "tax_identification_number")


def _dump(data) -> bytes:
    return json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode()


def _invoice_pdf(invoice) -> bytes:
    from invoices.documents import invoice_pdf_render

    if invoice.file and invoice.file.storage.exists(invoice.file.name):
        with invoice.file.open("rb") as stored:
            return stored.read()
    return invoice_pdf_render(invoice=invoice)


def _events(archive: zipfile.ZipFile, customer: Customer) -> None:
    """Usage events of the customer's subscriptions, one JSON per line, streamed."""
    from usage.models import Event

    external_ids = list(customer.subscriptions.values_list("external_id", flat=True).distinct())
    rows = Event.objects.filter(external_subscription_id__in=external_ids).values(
        "transaction_id", "external_subscription_id", "code", "timestamp", "properties"
    )
    with archive.open("events.jsonl", "w") as out:
        for row in rows.iterator(chunk_size=2000):
            out.write(json.dumps(row, cls=DjangoJSONEncoder).encode() + b"\n")


def customer_data_export(*, customer: Customer) -> bytes:
    """A ZIP: customer.json, subscriptions.json, invoices.json (+ invoices/*.pdf),
    credit_notes.json, wallets.json, payments.json, portal_logins.json, audit.json,
    events.jsonl."""
    from core.models import AuditEntry
    from customers.serializers import (
        customer_json,
        subscription_json,
        wallet_json,
        wallet_transaction_json,
    )
    from invoices.models import Invoice
    from invoices.serializers import credit_note_json, invoice_json
    from payments.services import payment_json

    invoices = list(Invoice.objects.filter(customer=customer).exclude(status="closed"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("customer.json", _dump(customer_json(customer)))
        archive.writestr(
            "subscriptions.json",
            _dump([subscription_json(s) for s in customer.subscriptions.order_by("created_at")]),
        )
        archive.writestr("invoices.json", _dump([invoice_json(i) for i in invoices]))
        for invoice in invoices:
            if invoice.number:
                archive.writestr(f"invoices/{invoice.number}.pdf", _invoice_pdf(invoice))
        archive.writestr(
            "credit_notes.json", _dump([credit_note_json(n) for n in customer.credit_notes.all()])
        )
        archive.writestr(
            "wallets.json",
            _dump(
                [
                    {
                        **wallet_json(w),
                        "transactions": [
                            wallet_transaction_json(t)
                            for t in w.transactions.order_by("created_at")
                        ],
                    }
                    for w in customer.wallets.order_by("created_at")
                ]
            ),
        )
        archive.writestr("payments.json", _dump([payment_json(p) for p in customer.payments.all()]))
        archive.writestr(
            "portal_logins.json",
            _dump(
                [
                    {"email": a.user.email, "last_login": a.user.last_login}
                    for a in customer.portal_accounts.select_related("user")
                ]
            ),
        )
        entries = AuditEntry.objects.filter(
            object_type="customers.customer", object_id=str(customer.pk)
        )
        archive.writestr(
            "audit.json",
            _dump(list(entries.values("at", "actor", "source", "action", "changes", "reason"))),
        )
        _events(archive, customer)
    return buffer.getvalue()


@transaction.atomic
def customer_personal_data_erase(*, customer: Customer) -> Customer:
    """Replace the customer's personal data (once); invoices stay as issued."""
    customer = lock_customer(customer.pk)
    if customer.personal_data_erased_at:
        raise RuleViolation("already_erased", "This customer's personal data is erased already.")
    with because("GDPR erasure of personal data"):
        for name in ERASED_FIELDS:
            setattr(customer, name, "")
        customer.name = f"Erased customer {customer.pk}"
        customer.shipping_address = {}
        if customer.customer_type != Customer.CustomerType.COMPANY:
            for name in INDIVIDUAL_FIELDS:
                setattr(customer, name, "")
        customer.personal_data_erased_at = timezone.now()
        customer.save()
        customer.metadata.all().delete()
        for account in customer.portal_accounts.select_related("user"):
            account.user.delete()
    from customers.services import customer_saved

    customer_saved(customer)
    return customer
