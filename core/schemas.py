"""OpenAPI declarations of the API logs endpoints (documentation only; see core/api/schema.py)."""

from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from core.api.schema import PAGE, DateTime, Int, Str, op, paginated, query, wrapped


class ApiLog(serializers.Serializer):
    request_id = Str()
    client = Str()
    http_method = Str()
    http_status = Int()
    request_origin = Str()
    request_path = Str()
    request_body = Str(help_text="Redacted, truncated to API_LOG_MAX_BODY_CHARS")
    request_response = Str(help_text="Redacted, truncated to API_LOG_MAX_BODY_CHARS")
    api_version = Str()
    logged_at = DateTime()
    created_at = DateTime()


API_LOG_FILTERS = [
    query("from_date", OpenApiTypes.DATE),
    query("to_date", OpenApiTypes.DATE),
    query("http_methods[]", description="post, put, patch, delete"),
    query("http_statuses[]", description="A status (404), succeeded or failed"),
    query("api_version"),
    query("request_paths", description="A path; * matches anything"),
]

API_LOG_VIEWS = {
    "list": op(
        "List API logs (write requests, not /events)",
        paginated("ApiLogPage", "api_logs", ApiLog),
        parameters=[*PAGE, *API_LOG_FILTERS],
    ),
    "retrieve": op("Retrieve an API log", wrapped("ApiLogEnvelope", "api_log", ApiLog())),
}
