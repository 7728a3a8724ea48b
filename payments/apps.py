from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Payment collection through Stripe: customer sync, PaymentIntents per invoice, signed
    webhooks, dunning retries, refunds, reconciliation. No card data ever reaches this app."""

    name = "payments"

    def ready(self) -> None:
        _register_customer_hooks()


def _register_customer_hooks() -> None:
    """The provider sync after a customer is saved (customers cannot import payments)."""
    from payments.customer_hooks import register_customer_hooks

    register_customer_hooks()
