"""The customer at its payment provider: created once, updated after every change, and the
payment method a charge would use."""

from django.db import transaction

from customers.locks import lock_customer
from customers.models import Customer
from payments.providers import provider_for


def collects(customer: Customer) -> bool:
    """Is this customer charged through a configured payment provider?"""
    return provider_for(customer) is not None


def customer_provider_sync(*, customer: Customer) -> str | None:
    """Create (once) or update the customer at its provider; returns its id there. Linking an
    existing provider customer is done by setting provider_customer_id."""
    provider = provider_for(customer)
    if provider is None:
        return None
    if customer.provider_customer_id:
        provider.customer_update(customer.provider_customer_id, customer)
        return customer.provider_customer_id
    created_id = provider.customer_create(customer)
    with transaction.atomic():
        locked = lock_customer(customer.pk)
        if not locked.provider_customer_id:
            locked.provider_customer_id = created_id
            locked.save(update_fields=["provider_customer_id", "updated_at"])
    provider.tax_id_sync(locked.provider_customer_id, customer)
    return locked.provider_customer_id


def default_payment_method(customer: Customer) -> str | None:
    """The card or mandate the provider would charge (None without a provider customer)."""
    provider = provider_for(customer)
    if provider is None or not customer.provider_customer_id:
        return None
    return provider.default_payment_method(customer)
