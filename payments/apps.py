from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    """Payment collection behind a provider protocol (payments/providers: Stripe today):
    customer sync, one payment per invoice, provider webhooks, dunning retries, refunds,
    reconciliation. No card data ever reaches this app."""

    name = "payments"

    def ready(self) -> None:
        _register_payment_hooks()
        _register_customer_hooks()


def _register_payment_hooks() -> None:
    """Invoicing announces; payments collects and refunds (docs/architecture.md)."""
    from core import hooks
    from payments.receivers import collect_when_finalized, refund_when_due

    hooks.register("invoice.finalized", collect_when_finalized)
    hooks.register("credit_note.refund_due", refund_when_due)


def _register_customer_hooks() -> None:
    """The provider sync after a customer is saved (customers cannot import payments)."""
    from payments.customer_hooks import register_customer_hooks

    register_customer_hooks()
