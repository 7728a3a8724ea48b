from django.apps import AppConfig


class CustomersConfig(AppConfig):
    """Customers and their subscriptions."""

    name = "customers"

    def ready(self) -> None:
        from customers.plan_deletion import register

        register()  # DELETE /plans/{code} runs as a bulk job
