"""Make every /api/ error JSON, even when Django (not DRF) answers: unknown routes, 500s."""

import logging

from django.http import JsonResponse

from core.api.exceptions import error_body

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
