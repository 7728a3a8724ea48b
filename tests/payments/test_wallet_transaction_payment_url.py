"""POST /wallet_transactions/{lago_id}/payment_url: a hosted page where the customer pays a
pending top-up's credit invoice, through the provider protocol (an in-memory provider stands
in for the remote service; Stripe's Checkout session parameters are checked on a stub client).
Paying there lands the credits like any payment of the invoice."""

from types import SimpleNamespace

import pytest
from django.conf import settings

from customers.models import Customer, WalletTransaction
from customers.services import customer_upsert
from customers.wallets import wallet_create, wallet_credits, wallet_top_up
from payments import providers
from payments.models import Payment
from payments.providers import stripe as stripe_provider
from payments.services import payment_apply_intent
from tests.openapi_check import spec_errors
from tests.payments.test_provider_seam import InMemoryProvider

pytestmark = pytest.mark.django_db
# The spec lists the details' keys as required at the top level, beside the root key that
# holds them (Lago's serializer nests them under wallet_transaction_payment_details).
GAPS = (
    r": '(lago_wallet_transaction_id|lago_customer_id|external_customer_id|payment_provider)'"
    r" is a required property",
)


class HostedPages(InMemoryProvider):
    """No card on file (nothing is charged at finalization); pays through its hosted page."""

    name, label = "hosted", "Hosted pages"

    def __init__(self) -> None:
        super().__init__()
        self.pages: list[tuple[str, int, str, str]] = []

    def default_payment_method(self, customer) -> str | None:
        return None

    def payment_url(self, *, invoice, payment, amount_cents: int, success_url: str) -> str:
        self.pages.append((invoice.number, amount_cents, str(payment.lago_id), success_url))
        return f"https://pay.test/{payment.lago_id}"


@pytest.fixture
def provider():
    hosted = HostedPages()
    providers.register(hosted)
    yield hosted
    providers.PROVIDERS.pop(hosted.name)


def customer(provider_name: str = "hosted", provider_id: str = "hosted_cus_1") -> Customer:
    found, _ = customer_upsert(data={"external_id": "acme", "currency": "USD"})
    Customer.objects.filter(pk=found.pk).update(
        payment_provider=provider_name, provider_customer_id=provider_id
    )
    return Customer.objects.get(pk=found.pk)


def purchase() -> WalletTransaction:
    wallet = wallet_create(
        data={"external_customer_id": "acme", "rate_amount": "2", "code": "main", "currency": "USD"}
    )
    [row] = wallet_top_up(wallet=wallet, paid_credits="25")  # $50.00, a credit invoice
    return WalletTransaction.objects.select_related("invoice", "wallet").get(pk=row.pk)


def url(row) -> str:
    return f"/api/v1/wallet_transactions/{row.lago_id}/payment_url"


def test_a_pending_top_up_gets_a_page_and_paying_lands_the_credits(api, provider):
    acme = customer()
    row = purchase()
    response = api.post(url(row))
    assert response.status_code == 200, response.content
    payment = Payment.objects.get(invoice=row.invoice)
    assert response.json() == {
        "wallet_transaction_payment_details": {
            "lago_customer_id": str(acme.lago_id),
            "external_customer_id": "acme",
            "payment_provider": "hosted",
            "lago_wallet_transaction_id": str(row.lago_id),
            "payment_url": f"https://pay.test/{payment.lago_id}",
        }
    }
    assert spec_errors("WalletTransactionPaymentUrl", response.json(), GAPS) == []
    home = settings.PUBLIC_BASE_URL.rstrip("/") + "/"
    assert provider.pages == [(row.invoice.number, 5000, str(payment.lago_id), home)]
    # the customer pays on that page: the provider's event names our payment
    payment_apply_intent(
        provider_payment_id="hosted_pi_1",
        status="paid",
        metadata_payment_id=str(payment.lago_id),
        attempt=payment.attempts,
    )
    row.refresh_from_db()
    assert row.status == "settled"
    assert wallet_credits(row.wallet)[0] == 25
    again = api.post(url(row))
    assert again.status_code == 422
    assert again.json()["error_details"] == {"base": ["wallet_transaction_already_settled"]}


def test_only_purchases_with_an_invoice(api, provider):
    customer()
    row = purchase()
    [grant] = wallet_top_up(wallet=row.wallet, granted_credits="1")
    response = api.post(url(grant))
    assert response.json()["error_details"] == {"base": ["wallet_transaction_not_purchased"]}
    for lago_id in ("nope", "6f1c2a4e-0000-4000-8000-000000000000"):
        response = api.post(f"/api/v1/wallet_transactions/{lago_id}/payment_url")
        assert (response.status_code, response.json()["code"]) == (
            404,
            "wallet_transaction_not_found",
        )


def test_no_provider_or_not_known_there(api, provider):
    customer(provider_name="")
    row = purchase()
    response = api.post(url(row))
    assert (response.status_code, response.json()["error_details"]) == (
        422,
        {"base": ["no_linked_payment_provider"]},
    )
    Customer.objects.update(payment_provider="hosted", provider_customer_id="")
    response = api.post(url(row))
    assert response.json()["error_details"] == {"base": ["missing_payment_provider_customer"]}
    assert provider.pages == []


def test_stripe_asks_a_checkout_session_for_the_amount_due(monkeypatch):
    created = []

    def create(params, options=None):
        created.append(params)
        return SimpleNamespace(url="https://checkout.stripe.test/c/1")

    client = SimpleNamespace(checkout=SimpleNamespace(sessions=SimpleNamespace(create=create)))
    monkeypatch.setattr(stripe_provider, "stripe_client", lambda: client)
    invoice = SimpleNamespace(
        lago_id="inv-1",
        number="INV-1",
        currency="EUR",
        customer=SimpleNamespace(provider_customer_id="cus_1"),
    )
    payment = SimpleNamespace(lago_id="pay-1", attempts=2, attempt_key=lambda: "payment-pay-1-2")
    page = stripe_provider.StripeProvider().payment_url(
        invoice=invoice, payment=payment, amount_cents=1234, success_url="https://seller.test/"
    )
    assert page == "https://checkout.stripe.test/c/1"
    [params] = created
    assert params["mode"] == "payment" and params["customer"] == "cus_1"
    assert params["line_items"] == [
        {
            "quantity": 1,
            "price_data": {
                "currency": "eur",
                "unit_amount": 1234,
                "product_data": {"name": "Invoice INV-1"},
            },
        }
    ]
    assert params["payment_intent_data"]["metadata"] == {
        "lago_invoice_id": "inv-1",
        "invoice_number": "INV-1",
        "payment_id": "pay-1",
        "attempt": "2",
    }
