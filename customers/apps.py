from django.apps import AppConfig


class CustomersConfig(AppConfig):
    """Customers and their subscriptions."""

    name = "customers"
