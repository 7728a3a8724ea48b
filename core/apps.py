from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Cross-cutting concerns: API keys and API plumbing, health, the system heartbeat."""

    name = "core"
    verbose_name = "System"
