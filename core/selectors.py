"""Reads for the core app: API key lookup and health checks."""

import logging

from django.db import connection

from core.models import ApiKey
from core.services import api_key_digest

logger = logging.getLogger(__name__)


def api_key_find_active(*, raw_key: str) -> ApiKey | None:
    """The active key matching `raw_key`, or None (unknown or revoked)."""
    if not raw_key:
        return None
    return ApiKey.objects.filter(digest=api_key_digest(raw_key), revoked_at__isnull=True).first()


def database_is_up() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception as exc:
        logger.warning("health check: database unreachable: %s", exc)
        return False


def broker_is_up() -> bool:
    from billing_site.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        return True
    except Exception as exc:
        logger.warning("health check: broker unreachable: %s", exc)
        return False


def system_health() -> dict[str, str]:
    """{"database": "ok"|"down", "broker": "ok"|"down"}."""
    return {
        "database": "ok" if database_is_up() else "down",
        "broker": "ok" if broker_is_up() else "down",
    }


def organization_get():
    """The organization row, created with defaults on first use."""
    from core.models import Organization

    organization = Organization.objects.order_by("pk").first()
    return organization or Organization.objects.create()
