from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outgoing webhooks: endpoints, signed deliveries with retries."""

    name = "webhooks"
