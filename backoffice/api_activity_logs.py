"""GET /api/v1/activity_logs and /api/v1/activity_logs/{activity_id}: Lago's activity logs,
from the audit trail (`backoffice.activity_logs`). In backoffice because an entry names its
customer and subscription, which live in higher layers than the trail (`core`)."""

import uuid

from drf_spectacular.utils import extend_schema_view

from backoffice.activity_logs import activity_logs_filtered, activity_logs_json, entry_id
from backoffice.schemas import ACTIVITY_LOG_VIEWS
from core.api.params import query_date
from core.api.viewsets import LagoViewSet
from core.errors import NotFound, ValidationFailed
from core.models import AuditEntry
from core.selectors import organization_get

SOURCES = {"api", "front", "system"}


def _list(params, name: str) -> list[str]:
    """`name[]=a&name[]=b` (Lago's clients) or `name=a`."""
    return [v for v in params.getlist(f"{name}[]") or params.getlist(name) if v]


def _uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _filters(params) -> dict:
    sources = _list(params, "activity_sources")
    resource_ids = _list(params, "resource_ids")
    errors = {}
    if any(s not in SOURCES for s in sources):
        errors["activity_sources"] = ["value_is_invalid"]
    if not all(_uuid(r) for r in resource_ids):
        errors["resource_ids"] = ["value_is_invalid"]
    if errors:
        raise ValidationFailed(errors)
    return {
        "from_date": query_date(params, "from_date"),
        "to_date": query_date(params, "to_date"),
        "activity_types": _list(params, "activity_types"),
        "activity_sources": sources,
        "user_emails": _list(params, "user_emails"),
        "external_customer_id": params.get("external_customer_id") or None,
        "external_subscription_id": params.get("external_subscription_id") or None,
        "resource_ids": resource_ids,
        "resource_types": _list(params, "resource_types"),
    }


@extend_schema_view(**ACTIVITY_LOG_VIEWS)
class ActivityLogViewSet(LagoViewSet):
    """Changes to billing data (the audit trail), newest first."""

    lago_root, lago_plural = "activity_log", "activity_logs"
    lookup_field = "activity_id"

    def list(self, request):
        entries = activity_logs_filtered(**_filters(request.query_params))
        page = self.paginate_queryset(entries)
        organization_id = str(organization_get().lago_id)
        return self.get_paginated_response(activity_logs_json(page, organization_id))

    def retrieve(self, request, activity_id=None):
        number = entry_id(activity_id)
        entry = AuditEntry.objects.filter(pk=number).first() if number else None
        if entry is None:
            raise NotFound("activity_log")
        [row] = activity_logs_json([entry], str(organization_get().lago_id))
        return self.render_one(row)
