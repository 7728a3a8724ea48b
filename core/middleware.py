"""Make every /api/ error JSON, even when Django (not DRF) answers: unknown routes, 500s."""

import logging

from django.http import JsonResponse

from core.api.exceptions import error_body
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
        logger.exception("unhandled error on %s", request.path, exc_info=exception)
        return JsonResponse(error_body(500, "internal_error"), status=500)


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
