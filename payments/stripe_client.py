"""The Stripe client, configured from settings: off when no key is set; any Stripe-compatible
server (localstripe in tests and demos) when STRIPE_API_BASE is a URL."""

import stripe
from django.conf import settings


def stripe_enabled() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def stripe_client() -> stripe.StripeClient:
    base = settings.STRIPE_API_BASE
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": base.rstrip("/")} if base else {},
        max_network_retries=2,
    ).v1
