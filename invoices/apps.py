from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    """Invoices and fees: period close, lifecycle, documents."""

    name = "invoices"

    def ready(self) -> None:
        from core import hooks
        from invoices.services.wallet_topups import wallet_credit_invoice
        from invoices.services.wallets import wallet_usage_owed

        hooks.register("wallet.usage_owed", wallet_usage_owed)
        hooks.register("wallet.credits_purchased", wallet_credit_invoice)
