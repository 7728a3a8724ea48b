"""GET /customers/{id}/payment_methods, PUT …/{lago_id}/set_as_default, DELETE …/{lago_id},
against localstripe: the methods recorded by our setup page's webhook, the default at Stripe."""

import pytest

from customers.models import Customer
from payments.models import PaymentMethod
from payments.providers.stripe import stripe_client
from payments.services import default_payment_method
from tests.lago_spec import schema_errors
from tests.payments.helpers import card
from tests.payments.test_stripe_webhooks import post
from tests.stripe_fake import event

pytestmark = pytest.mark.django_db


def added_through_setup_page(client, customer, number: str, event_id: str) -> str:
    """A card attached at Stripe and announced by setup_intent.succeeded, as our page does."""
    method = card(number)
    stripe_client().payment_methods.attach(
        method, params={"customer": customer.provider_customer_id}
    )
    setup = {
        "id": f"seti_{event_id}",
        "object": "setup_intent",
        "status": "succeeded",
        "customer": customer.provider_customer_id,
        "payment_method": method,
    }
    assert post(client, event(event_id, "setup_intent.succeeded", setup)).status_code == 200
    return method


def stripe_default(customer) -> str:
    remote = stripe_client().customers.retrieve(customer.provider_customer_id)
    return remote.invoice_settings.default_payment_method


def test_list_set_default_and_delete(api, client, stripe_customer):
    first = added_through_setup_page(client, stripe_customer, "4242424242424242", "evt_1")
    second = added_through_setup_page(client, stripe_customer, "5555555555554444", "evt_2")
    url = "/api/v1/customers/acme/payment_methods"
    body = api.get(url).json()
    assert [(m["provider_method_id"], m["is_default"]) for m in body["payment_methods"]] == [
        (second, True),
        (first, False),
    ]
    assert body["payment_methods"][0]["payment_provider_type"] == "stripe"
    assert body["meta"]["total_count"] == 2
    assert schema_errors("PaymentMethodsPaginated", body) == []

    older = PaymentMethod.objects.get(provider_method_id=first)
    response = api.put(f"{url}/{older.lago_id}/set_as_default")
    assert response.status_code == 200, response.content
    assert response.json()["payment_method"]["is_default"] is True
    assert schema_errors("PaymentMethod", response.json()) == []
    assert stripe_default(stripe_customer) == first
    stripe_customer.refresh_from_db()
    assert stripe_customer.provider_payment_method_id == first
    assert default_payment_method(stripe_customer) == first  # what collection charges
    assert PaymentMethod.objects.filter(is_default=True).get().provider_method_id == first

    gone = api.delete(f"{url}/{older.lago_id}")
    assert gone.status_code == 200
    assert gone.json()["payment_method"]["is_default"] is False
    assert [m["provider_method_id"] for m in api.get(url).json()["payment_methods"]] == [second]
    assert Customer.objects.get(pk=stripe_customer.pk).provider_payment_method_id == ""
    attached = stripe_client().payment_methods.list(
        params={"customer": stripe_customer.provider_customer_id, "type": "card"}
    )
    assert [m.id for m in attached.data] == [second]  # never charged again
    assert api.delete(f"{url}/{older.lago_id}").json()["code"] == "payment_method_not_found"


def test_unknown_ids(api, stripe_customer):
    assert api.get("/api/v1/customers/nobody/payment_methods").status_code == 404
    response = api.put(
        "/api/v1/customers/acme/payment_methods/00000000-0000-4000-8000-000000000000/set_as_default"
    )
    assert (response.status_code, response.json()["code"]) == (404, "payment_method_not_found")
    empty = api.get("/api/v1/customers/acme/payment_methods").json()
    assert empty["payment_methods"] == [] and empty["meta"]["total_count"] == 0
