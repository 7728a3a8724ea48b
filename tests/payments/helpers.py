"""Shared pieces of the payment tests: test cards, a card on file, a finalized invoice."""

from datetime import UTC, datetime

import time_machine

from customers.models import Customer
from customers.services import subscription_create
from invoices.models import Invoice
from invoices.services import subscription_bill_due
from payments.providers.stripe import stripe_client
from tests.factories import make_plan

DECLINES = "4000000000000341"  # attaches, then declines when charged
THREE_D_SECURE = "4000002500003155"


def at(*args):
    return datetime(*args, tzinfo=UTC)


def card(number: str) -> str:
    method = stripe_client().payment_methods.create(
        params={
            "type": "card",
            "card": {"number": number, "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )
    return method.id


def give_card(customer: Customer, method: str) -> None:
    client = stripe_client()
    client.payment_methods.attach(method, params={"customer": customer.provider_customer_id})
    client.customers.update(
        customer.provider_customer_id,
        params={"invoice_settings": {"default_payment_method": method}},
    )


def finalized_invoice(amount_cents: int = 4200) -> Invoice:
    make_plan("pro", amount_cents)
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "acme", "plan_code": "pro", "external_id": "s"}
        )
    [invoice] = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    return invoice
