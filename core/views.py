"""Landing page and health check."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.selectors import system_health


@require_GET
@never_cache
def healthz(request):
    """200 with each dependency "ok", or 503 naming what is down (with Retry-After)."""
    health = system_health()
    status = 200 if all(value == "ok" for value in health.values()) else 503
    response = JsonResponse(health, status=status)
    if status == 503:
        response["Retry-After"] = str(settings.API_UNAVAILABLE_RETRY_AFTER_SECONDS)
    return response


@require_GET
def landing(request):
    return render(request, "core/landing.html")
