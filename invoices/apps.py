from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    """Invoices and fees: period close, lifecycle, documents."""

    name = "invoices"

    def ready(self) -> None:
        _register_wallet_hooks()
        _register_customer_and_usage_hooks()


def _register_wallet_hooks() -> None:
    """Balances owed by usage and the invoices of paid top-ups: the wallet ledger (customers)
    asks, invoicing answers."""
    from core import hooks
    from invoices.services.wallet_topups import wallet_credit_invoice
    from invoices.services.wallets import wallet_usage_owed

    hooks.register("wallet.usage_owed", wallet_usage_owed)
    hooks.register("wallet.credits_purchased", wallet_credit_invoice)


def _register_customer_and_usage_hooks() -> None:
    """Billing of starts and terminations, usage follow-ups, the customer admin's invoicing
    pages: invoicing reacts to customers and usage, which cannot import it."""
    from invoices.admin_customers import extend_customer_admin
    from invoices.receivers import register_customer_and_usage_hooks

    register_customer_and_usage_hooks()
    extend_customer_admin()
