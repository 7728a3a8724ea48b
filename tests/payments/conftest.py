"""The Stripe customer most payment tests start from (localstripe: tests/stripe_fake.py)."""

import pytest

from customers.services import customer_upsert
from payments.services import customer_provider_sync


@pytest.fixture
def stripe_customer(stripe_on):
    customer, _ = customer_upsert(
        data={
            "external_id": "acme",
            "name": "Acme",
            "email": "ap@acme.example",
            "country": "US",
            "currency": "USD",
            "billing_configuration": {"payment_provider": "stripe", "sync_with_provider": True},
        }
    )
    customer_provider_sync(customer=customer)
    customer.refresh_from_db()
    return customer
