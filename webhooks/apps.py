from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outgoing webhooks: endpoints, signed deliveries with retries."""

    name = "webhooks"

    def ready(self) -> None:
        from core import hooks
        from webhooks.receivers import feature_changed

        # the catalog (plans) cannot import webhooks: it announces its features' changes
        hooks.register("feature.changed", feature_changed)
