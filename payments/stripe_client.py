"""Kept for callers outside payments that still import the Stripe client from here; the client
lives in payments.providers.stripe (new code asks the provider registry instead)."""

from payments.providers.stripe import stripe_client, stripe_enabled

__all__ = ["stripe_client", "stripe_enabled"]
