from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Payment collection through Stripe: customer sync, PaymentIntents per invoice, signed
    webhooks, dunning retries, refunds, reconciliation. No card data ever reaches this app."""

    name = "payments"
