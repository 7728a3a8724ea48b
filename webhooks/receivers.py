"""Receivers of the hooks of lower layers that become webhooks (see core/hooks.py)."""

from webhooks.services import webhook_send


def feature_changed(*, webhook_type: str, feature: dict) -> None:
    """feature.created, feature.updated, feature.deleted (Lago), the feature's JSON as the API
    renders it; sent once the caller's transaction commits."""
    webhook_send(webhook_type=webhook_type, object_type="feature", data=feature)
