from django.apps import AppConfig


class TaxesConfig(AppConfig):
    """Taxes: explicit tax objects, automatic rules (EU VAT, US sales tax) with effective dates,
    VAT number checks. Used by invoicing; owned by no billing domain."""

    name = "taxes"
