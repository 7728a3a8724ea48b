"""GET /api/v1/api_logs and /api/v1/api_logs/{request_id}: Lago's API logs, from the rows
`core.middleware.ApiLogMiddleware` writes."""

import uuid

from drf_spectacular.utils import extend_schema_view

from core.api.formats import iso
from core.api.params import query_date
from core.api.viewsets import LagoViewSet
from core.errors import NotFound, ValidationFailed
from core.models import ApiLog
from core.schemas import API_LOG_VIEWS
from core.selectors import api_logs_filtered

METHODS = {"post", "put", "patch", "delete"}


def api_log_json(log: ApiLog) -> dict:
    return {
        "request_id": str(log.request_id),
        "client": log.client,
        "http_method": log.http_method,
        "http_status": log.http_status,
        "request_origin": log.request_origin,
        "request_path": log.request_path,
        "request_body": log.request_body,
        "request_response": log.request_response,
        "api_version": log.api_version,
        "logged_at": iso(log.logged_at),
        "created_at": iso(log.created_at),
    }


def _list(params, name: str) -> list[str]:
    """`name[]=a&name[]=b` (Lago's clients) or `name=a`."""
    return params.getlist(f"{name}[]") or params.getlist(name)


def _filters(params) -> dict:
    methods = [m.lower() for m in _list(params, "http_methods")]
    statuses = _list(params, "http_statuses")
    errors = {}
    if any(m not in METHODS for m in methods):
        errors["http_methods"] = ["value_is_invalid"]
    valid_status = {"succeeded", "failed"}
    if any(s not in valid_status and not (s.isdigit() and 100 <= int(s) <= 599) for s in statuses):
        errors["http_statuses"] = ["value_is_invalid"]
    if errors:
        raise ValidationFailed(errors)
    return {
        "from_date": query_date(params, "from_date"),
        "to_date": query_date(params, "to_date"),
        "http_methods": methods,
        "http_statuses": statuses,
        "api_version": params.get("api_version") or None,
        "request_paths": params.get("request_paths") or None,
    }


@extend_schema_view(**API_LOG_VIEWS)
class ApiLogViewSet(LagoViewSet):
    """Write requests made to /api/v1 with an API key (not /events), newest first."""

    lago_root, lago_plural = "api_log", "api_logs"
    lookup_field = "request_id"

    def list(self, request):
        logs = api_logs_filtered(**_filters(request.query_params))
        return self.render_page(logs, api_log_json)

    def retrieve(self, request, request_id=None):
        try:
            wanted = uuid.UUID(request_id)
        except ValueError:
            raise NotFound("api_log") from None
        log = ApiLog.objects.filter(request_id=wanted).first()
        if log is None:
            raise NotFound("api_log")
        return self.render_one(api_log_json(log))
