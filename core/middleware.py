"""Make every /api/ error JSON, even when Django (not DRF) answers: unknown routes, 500s."""

import logging

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse

from core.api.exceptions import database_unavailable_response, error_body, is_database_unavailable
from core.api.json import NUL, max_body_bytes
from core.auditing import SYSTEM, Actor, reset_actor, set_actor

logger = logging.getLogger(__name__)


class ApiJsonErrorsMiddleware:
    """Replace non-JSON 4xx/5xx responses on /api/ paths with Lago-shaped JSON."""

    prefix = "/api/"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(self.prefix) or response.status_code < 400:
            return response
        if "json" in response.get("Content-Type", ""):
            return response
        code = {404: "not_found", 405: "not_allowed", 413: "request_too_large"}.get(
            response.status_code
        )
        if response.status_code == 400 and code is None:
            code = "bad_request"
        return JsonResponse(error_body(response.status_code, code), status=response.status_code)

    def process_exception(self, request, exception):
        if not request.path.startswith(self.prefix):
            return None
        if is_database_unavailable(exception):
            return database_unavailable_response(JsonResponse)
        logger.exception("unhandled error on %s", request.path, exc_info=exception)
        return JsonResponse(error_body(500, "internal_error"), status=500)


class ApiLogMiddleware:
    """Lago's API logs: each write request (POST, PUT, PATCH, DELETE) to /api/v1 made with an
    API key is stored after its response (`core.services.api_log_record`): User-Agent, method,
    status, origin, path, both bodies redacted and truncated; never a header, so never the
    Authorization. Like Lago, /api/v1/events (ingestion, the hot path) is not logged, nor are
    requests without a valid key. A failure to log is logged and never fails the request."""

    prefix = "/api/v1/"
    skipped = ("/api/v1/events",)
    methods = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self._logged(request):
            return self.get_response(request)
        body = self._request_body(request)
        response = self.get_response(request)
        self._record(request, response, body)
        return response

    def _logged(self, request) -> bool:
        path = request.path
        return (
            settings.API_LOG_ENABLED
            and request.method in self.methods
            and path.startswith(self.prefix)
            and not any(path == p or path.startswith(p + "/") for p in self.skipped)
        )

    @staticmethod
    def _request_body(request) -> str:
        """Read before the view (whose parser consumes the stream); an oversized one only by
        its size (the view refuses it with 413 anyway)."""
        length = _declared_length(request)
        if length > settings.API_MAX_BODY_BYTES:
            return f"[not logged: {length} bytes]"
        try:
            return request.body.decode("utf-8", errors="replace")
        except Exception:  # a body Django refuses to read is simply not logged
            return ""

    @staticmethod
    def _record(request, response, body: str) -> None:
        from core.api.authentication import ApiKeyUser
        from core.services import api_log_record

        user = getattr(request, "user", None)
        if not isinstance(user, ApiKeyUser):
            return
        content = b"" if getattr(response, "streaming", False) else response.content
        try:
            api_log_record(
                api_key_prefix=user.api_key.prefix,
                client=request.META.get("HTTP_USER_AGENT", ""),
                http_method=request.method,
                http_status=response.status_code,
                request_origin=f"{request.scheme}://{request.get_host()}",
                request_path=request.path,
                request_body=body,
                request_response=content.decode("utf-8", errors="replace"),
            )
        except Exception as exc:
            if is_database_unavailable(exc):  # the response already says so (503)
                logger.warning("API log of %s not recorded: database unavailable", request.path)
            else:
                logger.exception("could not record the API log of %s", request.path)


class AuditActorMiddleware:
    """Who is acting, for the audit trail, scoped to this request (reset afterwards): staff in
    the admin, customers in the portal; the API key authentication and the Stripe webhook
    view name themselves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = set_actor(self._actor(request))
        try:
            return self.get_response(request)
        finally:
            reset_actor(token)

    @staticmethod
    def _actor(request) -> Actor:
        path = request.path
        user = getattr(request, "user", None)
        if path.startswith("/portal/"):
            if user is not None and user.is_authenticated:
                return Actor(f"portal:{user.email}", "portal")
            customer_id = request.session.get("portal_customer_id")
            return Actor(f"portal-link:customer {customer_id}", "portal")
        if not path.startswith("/admin/"):
            return SYSTEM  # the API key authentication and the Stripe view name themselves
        if user is not None and user.is_authenticated and user.is_staff:
            return Actor(f"staff:{user.get_username()}", "admin")
        return SYSTEM


class HostileInputMiddleware:
    """Refuse, before any view or database query, what PostgreSQL or a worker cannot take: NUL
    in the path or the query string (API: 422 naming the parameter, elsewhere: 400) and an
    API body whose Content-Length is over the endpoint's limit (413). The JSON parser guards
    the bytes actually read and NUL inside bodies."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        field = _nul_field(request, view_kwargs)
        is_api = request.path.startswith(ApiJsonErrorsMiddleware.prefix)
        if field and not is_api:
            return HttpResponseBadRequest("NUL characters are not allowed.")
        if field:
            body = error_body(422, "validation_errors", {field: ["invalid_characters"]})
            return JsonResponse(body, status=422)
        if is_api and _declared_length(request) > max_body_bytes(getattr(view_func, "cls", None)):
            return JsonResponse(error_body(413, "request_too_large"), status=413)
        return None


def _nul_field(request, view_kwargs) -> str | None:
    """The first URL part or query parameter (name or value) holding a NUL, by name."""
    for name, value in view_kwargs.items():
        if NUL in str(value):
            return name
    if NUL in request.path:
        return "path"
    for name, values in request.GET.lists():
        if NUL in name or any(NUL in value for value in values):
            return name.replace(NUL, "\\u0000")
    return None


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
