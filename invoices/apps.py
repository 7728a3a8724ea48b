from django.apps import AppConfig


class InvoicesConfig(AppConfig):
    """Invoices and fees: period close, lifecycle, documents."""

    name = "invoices"
