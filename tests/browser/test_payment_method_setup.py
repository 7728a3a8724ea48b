"""A customer adds a card on the setup page in a real browser: Stripe.js is localstripe's
stand-in, served by the same localstripe, so the card goes from the browser to the
Stripe-compatible server and never through this app. Then the invoice is charged to it."""

import json

import pytest
import requests

from customers.models import Customer
from customers.services import customer_upsert
from payments.links import setup_url
from payments.providers.stripe import stripe_client
from payments.services import default_payment_method
from tests.payments.helpers import finalized_invoice
from tests.stripe_fake import event, sign

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def stripe_js(settings, stripe_on):
    settings.STRIPE_JS_URL = f"{stripe_on}/js.stripe.com/v3/"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_localstripe"


def stripe_sends_setup_succeeded(live_server, customer: Customer) -> None:
    """Stripe's setup_intent.succeeded webhook (localstripe sends none): the SetupIntent as
    localstripe holds it, its card attached to the customer as Stripe does on success."""
    client = stripe_client()
    [intent] = client.setup_intents.list(params={"limit": 1}).data
    assert intent.status == "succeeded"
    client.payment_methods.attach(
        intent.payment_method, params={"customer": customer.provider_customer_id}
    )
    payload = event("evt_setup", "setup_intent.succeeded", json.loads(str(intent)))
    response = requests.post(
        f"{live_server.url}/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": sign(payload), "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.json()["outcome"] == "default payment method set"


def test_a_customer_saves_a_card_and_the_next_invoice_is_charged_to_it(
    page, live_server, stripe_js, screenshot, settings
):
    settings.PUBLIC_BASE_URL = live_server.url
    customer, _ = customer_upsert(
        data={
            "external_id": "acme",
            "name": "Acme",
            "email": "ap@acme.example",
            "currency": "USD",
            "billing_configuration": {"payment_provider": "stripe", "sync_with_provider": True},
        }
    )
    page.goto(setup_url(customer))
    for placeholder, value in (
        ("number", "4242424242424242"),
        ("exp_month", "12"),
        ("exp_year", "34"),
        ("cvc", "123"),
        ("postal_code", "10001"),
    ):
        page.fill(f"#card-element input[placeholder={placeholder}]", value)
    screenshot("payment-method-setup")
    page.click("#card-form button[type=submit]")
    page.wait_for_selector("#setup-result:has-text('Saved')")
    customer = Customer.objects.get(pk=customer.pk)
    stripe_sends_setup_succeeded(live_server, customer)
    customer.refresh_from_db()
    assert default_payment_method(customer) == customer.provider_payment_method_id != ""
    invoice = finalized_invoice()  # finalizing enqueues the collection (eager here)
    invoice.refresh_from_db()
    assert invoice.payment_status == "succeeded"
    assert invoice.payments.get().provider_payment_id.startswith("pi_")
