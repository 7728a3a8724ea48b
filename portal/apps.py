from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The customer portal: customers' own logins (and Lago's signed portal_url), pages that
    show one customer's usage, invoices and credits, and nothing of anyone else's."""

    name = "portal"
