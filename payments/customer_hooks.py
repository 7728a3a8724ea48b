"""Payments' receiver of `customer.saved` (core/hooks.py): customers, a lower layer, announce
a saved customer; the provider sync is payments' business."""

from django.db import transaction

from core import hooks
from payments.tasks import sync_customer


def customer_sync_after_commit(*, customer) -> None:
    """A Stripe customer is created (when asked) or kept up to date, after commit."""
    wants = customer.sync_with_provider or customer.provider_customer_id
    if customer.payment_provider != "stripe" or not wants:
        return
    customer_id = customer.pk
    transaction.on_commit(lambda: sync_customer.delay(customer_id))


def register_customer_hooks() -> None:
    """Called from PaymentsConfig.ready()."""
    hooks.register("customer.saved", customer_sync_after_commit)
