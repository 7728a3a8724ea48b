from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """Cross-cutting concerns: API keys and API plumbing, health, the system heartbeat."""

    name = "core"
    verbose_name = "System"

    def ready(self) -> None:
        from core import auditing, lengths, tasks_audit  # noqa: F401 (Celery signal handlers)

        auditing.connect()
        lengths.connect()
        post_migrate.connect(_sync_roles, dispatch_uid="core-sync-roles")


def _sync_roles(app_config, **kwargs):
    """After `migrate`, once every app's permissions exist (the last app is done), bring the
    roles up to date with permissions of models added since."""
    from django.conf import settings

    if app_config.name == settings.INSTALLED_APPS[-1]:
        from core.roles import sync_roles

        sync_roles()
