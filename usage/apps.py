from django.apps import AppConfig


class UsageConfig(AppConfig):
    """Usage events: ingestion, deduplication, aggregation in SQL."""

    name = "usage"
