"""Reads for the core app: API key lookup and health checks."""

import logging
import re

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


def api_logs_filtered(
    *,
    from_date=None,
    to_date=None,
    http_methods: list[str] | None = None,
    http_statuses: list[str] | None = None,
    api_version: str | None = None,
    request_paths: str | None = None,
):
    """API logs, newest first, with Lago's filters: days of `logged_at` (UTC, both included),
    methods, statuses (numbers, or `succeeded` (< 400) / `failed` (>= 400)), version, and a
    path (`*` matches anything)."""
    from django.db.models import Q

    from core.models import ApiLog

    logs = ApiLog.objects.order_by("-logged_at", "-id")
    if from_date:
        logs = logs.filter(logged_at__date__gte=from_date)
    if to_date:
        logs = logs.filter(logged_at__date__lte=to_date)
    if http_methods:
        logs = logs.filter(http_method__in=http_methods)
    if http_statuses:
        wanted = Q(http_status__in=[int(s) for s in http_statuses if s.isdigit()])
        if "succeeded" in http_statuses:
            wanted |= Q(http_status__lt=400)
        if "failed" in http_statuses:
            wanted |= Q(http_status__gte=400)
        logs = logs.filter(wanted)
    if api_version:
        logs = logs.filter(api_version=api_version)
    if request_paths:
        if "*" in request_paths:
            pattern = "^" + ".*".join(re.escape(part) for part in request_paths.split("*")) + "$"
            logs = logs.filter(request_path__regex=pattern)
        else:
            logs = logs.filter(request_path=request_paths)
    return logs
