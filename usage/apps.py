from django.apps import AppConfig


class UsageConfig(AppConfig):
    """Usage events: ingestion, deduplication, aggregation in SQL."""

    name = "usage"

    def ready(self) -> None:
        _register_catalog_hooks()


def _register_catalog_hooks() -> None:
    """The catalog (a lower layer) announces changes; ingestion's cache is ours to reset."""
    from core import hooks

    hooks.register("catalog.changed", _clear_catalog_cache)


def _clear_catalog_cache(organization_id=None) -> None:
    """Models load after apps, so the cache module is imported here, not at the top."""
    from usage import catalog_cache

    catalog_cache.clear()
