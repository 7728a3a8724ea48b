"""POST /invoices/{id}/payment_url: a provider page for the amount due, Lago's checks first."""

import pytest

from customers.models import Customer
from customers.services import customer_upsert
from invoices.services import invoice_update
from payments import providers
from payments.models import Payment
from payments.providers.base import Charge
from tests.lago_spec import schema_errors
from tests.payments.helpers import finalized_invoice

pytestmark = pytest.mark.django_db


class CheckoutProvider:
    """A provider whose hosted page is a URL naming the payment and the amount."""

    name, label = "checkout", "Checkout"

    def enabled(self) -> bool:
        return True

    def customer_create(self, customer) -> str:
        return f"co_{customer.external_id}"

    def customer_update(self, provider_customer_id: str, customer) -> None:
        pass

    def tax_id_sync(self, provider_customer_id: str, customer) -> None:
        pass

    def payment_url(self, *, invoice, payment, amount_cents: int) -> str:
        return f"https://pay.example/{payment.lago_id}?amount={amount_cents}"

    def charge(self, **kwargs) -> Charge:  # pragma: no cover (not collected here)
        raise AssertionError("no charge expected")


@pytest.fixture
def checkout_provider():
    provider = CheckoutProvider()
    providers.register(provider)
    yield provider
    providers.PROVIDERS.pop(provider.name)


def customer_with(provider_name: str) -> Customer:
    customer, _ = customer_upsert(data={"external_id": "acme", "currency": "USD"})
    Customer.objects.filter(pk=customer.pk).update(payment_provider=provider_name)
    return customer


def test_the_link_pays_the_amount_due_through_the_provider(api, checkout_provider):
    customer = customer_with("checkout")
    invoice = finalized_invoice(4200)
    response = api.post(f"/api/v1/invoices/{invoice.lago_id}/payment_url")
    assert response.status_code == 200, response.content
    payment = Payment.objects.get(invoice=invoice)
    assert response.json() == {
        "invoice_payment_details": {
            "lago_customer_id": str(customer.lago_id),
            "lago_invoice_id": str(invoice.lago_id),
            "external_customer_id": "acme",
            "payment_provider": "checkout",
            "payment_url": f"https://pay.example/{payment.lago_id}?amount=4200",
        }
    }
    assert (payment.provider, payment.amount_cents, payment.status) == ("checkout", 4200, "pending")
    assert schema_errors("InvoicePaymentUrl", response.json()) == []


def test_lagos_refusals(api, checkout_provider):
    customer_with("")
    invoice = finalized_invoice(4200)
    url = f"/api/v1/invoices/{invoice.lago_id}/payment_url"
    response = api.post(url)
    assert response.status_code == 422
    assert response.json()["error_details"] == {"base": ["no_linked_payment_provider"]}
    Customer.objects.filter(external_id="acme").update(payment_provider="checkout")
    invoice_update(invoice=invoice, data={"payment_status": "succeeded"})
    response = api.post(url)
    assert response.json()["error_details"] == {
        "base": ["invalid_invoice_status_or_payment_status"]
    }
    assert not Payment.objects.exists()
    assert (
        api.post("/api/v1/invoices/00000000-0000-4000-8000-000000000000/payment_url").json()["code"]
        == "invoice_not_found"
    )


def test_stripe_is_off(api, settings):
    settings.STRIPE_SECRET_KEY = ""
    customer_with("stripe")
    invoice = finalized_invoice(4200)
    response = api.post(f"/api/v1/invoices/{invoice.lago_id}/payment_url")
    assert response.json()["error_details"] == {"base": ["missing_payment_provider"]}


def test_a_stripe_failure_is_lagos_third_party_error(api, stripe_customer):
    """localstripe has no Checkout sessions: Stripe's refusal is passed on as Lago does."""
    invoice = finalized_invoice(4200)
    response = api.post(f"/api/v1/invoices/{invoice.lago_id}/payment_url")
    assert (response.status_code, response.json()["code"]) == (422, "third_party_error")
