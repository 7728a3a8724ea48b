"""Named row locks for customers, subscriptions and wallets (order: customer -> subscription
-> invoice -> wallet; see `core/locks.py`)."""

from core.locks import lock_one
from customers.models import Customer, Subscription


def lock_customer(pk) -> Customer:
    """The customer row, locked (taken first: before its subscriptions, invoices, wallets)."""
    return lock_one(Customer, pk)


def lock_subscription(pk) -> Subscription:
    """The subscription row, locked (after its customer, before its invoices)."""
    return lock_one(Subscription, pk)
