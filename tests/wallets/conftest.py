"""Wallet tests: a customer with a grace period (invoices stay drafts), a clock, usage, and the
real HTTP receiver of the webhook tests."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from customers.models import Wallet, WalletTransaction
from customers.services import customer_upsert, subscription_create
from customers.wallets import wallet_create, wallet_credits
from invoices.models import Invoice
from invoices.services import subscription_bill_due
from invoices.services.lifecycle import invoice_totals
from tests.factories import make_metric, make_plan, standard_charge
from tests.webhooks.conftest import make_endpoint, receiver  # noqa: F401  (fixtures)
from usage.services import events_ingest


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ledger(wallet: Wallet) -> Decimal:
    """The balance recomputed in Python from every row: settled inbound - settled outbound."""
    total = Decimal(0)
    for row in WalletTransaction.objects.filter(wallet=wallet, status="settled"):
        total += row.credit_amount if row.transaction_type == "inbound" else -row.credit_amount
    return total


def balance(wallet: Wallet) -> Decimal:
    """The SQL balance, checked against the ledger every time it is read."""
    credits, _ = wallet_credits(wallet)
    assert credits == ledger(wallet)
    assert credits >= 0
    return credits


def send(moment: datetime, tokens: int, external_id: str = "sub", metric: str = "tokens"):
    events_ingest(
        raws=[
            {
                "transaction_id": f"{external_id}-{metric}-{moment.isoformat()}-{tokens}",
                "external_subscription_id": external_id,
                "code": metric,
                "timestamp": moment.isoformat(),
                "properties": {"value": tokens},
            }
        ],
        now=moment,
    )


def close(subscription, moment: datetime) -> Invoice:
    """The real period close at `moment`; the grace period keeps the invoice a draft whose
    totals are then computed as finalization would (before prepaid credits)."""
    [invoice] = subscription_bill_due(subscription_id=subscription.pk, now=moment)
    assert invoice.status == "draft"
    return invoice_totals(invoice)


START = at(2024, 4, 1)


def new_wallet(moment: datetime = START, **data) -> Wallet:
    with time_machine.travel(moment, tick=False):
        return wallet_create(
            data={"external_customer_id": "cust", "rate_amount": "1", "name": "Prepaid", **data}
        )


@pytest.fixture
def customer(db):
    customer, _ = customer_upsert(
        data={
            "external_id": "cust",
            "currency": "USD",
            "billing_configuration": {"invoice_grace_period": 3},
        }
    )
    return customer


@pytest.fixture
def metrics(db):
    return make_metric("tokens"), make_metric("images")


@pytest.fixture
def subscription(customer, metrics):
    """Pro: $10.00 a month in arrears, tokens at $0.01, images at $1.00."""
    tokens, images = metrics
    make_plan(
        "pro",
        1000,
        charges=[standard_charge(tokens, "0.01"), standard_charge(images, "1")],
    )
    with time_machine.travel(at(2024, 4, 1), tick=False):
        return subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )
