"""The payment providers by name (Customer.payment_provider, Payment.provider): the one place
that lists them. Services ask `provider_for(customer)`; nothing outside this package names a
provider's library."""

from payments.providers.base import PaymentProvider
from payments.providers.stripe import StripeProvider

PROVIDERS: dict[str, PaymentProvider] = {}


def register(provider: PaymentProvider) -> None:
    PROVIDERS[provider.name] = provider


def provider_named(name: str) -> PaymentProvider | None:
    """The provider registered under `name`, configured or not."""
    return PROVIDERS.get(name or "")


def provider_for(customer) -> PaymentProvider | None:
    """The provider that collects from `customer`: named on the customer and configured."""
    provider = provider_named(customer.payment_provider)
    return provider if provider is not None and provider.enabled() else None


register(StripeProvider())
