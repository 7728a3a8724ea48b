"""The seam between invoicing and payments: invoicing announces (core.hooks) and never names a
provider or the payments app; payments collects through whichever provider the registry knows
by the customer's payment_provider. A second provider is one class and one register() call —
shown here with an in-memory provider standing in for a remote payment service."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from core import hooks
from customers.models import Customer
from customers.services import customer_upsert
from invoices.models import Invoice
from payments import providers
from payments.admin import PaymentInline
from payments.models import Payment
from payments.providers.base import Charge
from payments.receivers import collect_when_finalized, refund_when_due
from tests.payments.helpers import finalized_invoice

pytestmark = pytest.mark.django_db


class InMemoryProvider:
    """A payment service that accepts every charge (the protocol of providers/base.py)."""

    name, label = "inmemory", "In-memory"

    def __init__(self) -> None:
        self.charges: list[tuple[str, int, str]] = []

    def enabled(self) -> bool:
        return True

    def customer_create(self, customer) -> str:
        return f"mem_cus_{customer.external_id}"

    def customer_update(self, provider_customer_id: str, customer) -> None:
        pass

    def tax_id_sync(self, provider_customer_id: str, customer) -> None:
        pass

    def default_payment_method(self, customer) -> str | None:
        return "mem_card"

    def charge(self, *, invoice, payment, amount_cents: int, method: str) -> Charge:
        self.charges.append((invoice.number, amount_cents, method))
        return Charge(provider_payment_id=f"mem_pay_{payment.attempts}", status="paid")

    def payment_status(self, status: str) -> str:
        return {"paid": Payment.Status.SUCCEEDED}.get(status, Payment.Status.FAILED)


@pytest.fixture
def in_memory_provider():
    provider = InMemoryProvider()
    providers.register(provider)
    yield provider
    providers.PROVIDERS.pop(provider.name)


def customer_paying_through(provider_name: str) -> Customer:
    customer, _ = customer_upsert(
        data={"external_id": "acme", "name": "Acme", "country": "US", "currency": "USD"}
    )
    Customer.objects.filter(pk=customer.pk).update(payment_provider=provider_name)
    return customer


def test_payments_receives_the_finalized_and_refund_due_announcements_of_invoicing():
    assert collect_when_finalized in hooks.receivers("invoice.finalized")
    assert refund_when_due in hooks.receivers("credit_note.refund_due")


def test_a_finalized_invoice_is_collected_through_the_provider_registered_for_its_customer(
    in_memory_provider, django_capture_on_commit_callbacks
):
    customer_paying_through("inmemory")
    with django_capture_on_commit_callbacks(execute=True):
        invoice = finalized_invoice(4200)

    payment = Payment.objects.get(invoice=invoice)
    assert (payment.provider, payment.status, payment.amount_cents) == (
        "inmemory",
        "succeeded",
        4200,
    )
    assert (payment.provider_payment_id, payment.attempts) == ("mem_pay_1", 1)
    assert in_memory_provider.charges == [(invoice.number, 4200, "mem_card")]
    invoice.refresh_from_db()
    assert invoice.payment_status == Invoice.PaymentStatus.SUCCEEDED
    customer = Customer.objects.get(pk=invoice.customer_id)
    assert customer.provider_customer_id == "mem_cus_acme"


def test_a_customer_whose_provider_no_app_registers_is_not_collected(
    django_capture_on_commit_callbacks,
):
    customer_paying_through("gocardless")
    with django_capture_on_commit_callbacks(execute=True):
        invoice = finalized_invoice(4200)

    assert invoice.total_amount_cents == 4200
    assert not Payment.objects.filter(invoice=invoice).exists()
    invoice.refresh_from_db()
    assert invoice.payment_status == Invoice.PaymentStatus.PENDING


def test_the_invoice_admin_page_shows_the_payments_section_after_its_own():
    inlines = admin.site._registry[Invoice].inlines
    names = [inline.__name__ for inline in inlines]
    assert names == ["BillingInline", "FeeInline", "PaymentInline"]
    assert inlines[-1] is PaymentInline


def test_retry_payment_keeps_its_path_and_url_name():
    lago_id = "2b9e8d2e-0000-4000-8000-000000000001"
    path = reverse("invoice-retry-payment", kwargs={"lago_id": lago_id})
    assert path == f"/api/v1/invoices/{lago_id}/retry_payment"


def _names_in(path: Path) -> set[str]:
    """The modules a file imports, at module level or inside functions."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_invoicing_neither_imports_payments_nor_names_a_provider():
    root = Path(settings.BASE_DIR) / "invoices"
    files = [p for p in root.rglob("*.py") if "migrations" not in p.parts]
    imports = {str(p.relative_to(root)): _names_in(p) for p in files}
    assert {f: n for f, n in imports.items() if any(m.split(".")[0] == "payments" for m in n)} == {}
    assert [str(p.relative_to(root)) for p in files if "stripe" in p.read_text().lower()] == []


def test_the_openapi_descriptions_of_the_invoice_routes_did_not_change_with_the_move(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    invoice = schema["paths"]["/api/v1/invoices/{lago_id}"]
    # The base viewset's docstring, as before retry_payment moved to payments.api.
    base = 'Subclasses set lago_root ("customer"), lago_plural ("customers") and lookup_field.'
    assert invoice["get"]["description"] == invoice["put"]["description"] == base
    retry = schema["paths"]["/api/v1/invoices/{lago_id}/retry_payment"]["post"]
    expected = "Collect now through the payment provider (whatever the dunning schedule says)."
    assert retry["description"] == expected
