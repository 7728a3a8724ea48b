"""Django-level 404/500 handlers: JSON under /api/, HTML pages elsewhere."""

from django.http import JsonResponse
from django.views import defaults

from core.api.exceptions import error_body


def not_found(request, exception=None):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(404, "not_found"), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(500, "internal_error"), status=500)
    return defaults.server_error(request)
