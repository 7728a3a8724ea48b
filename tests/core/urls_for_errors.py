"""A URLconf with endpoints that fail on purpose, to test the JSON error shapes."""

from django.urls import include, path
from rest_framework.decorators import api_view
from rest_framework.response import Response

from billing_site.urls import urlpatterns as site_urlpatterns


@api_view(["GET"])
def boom(request):
    raise RuntimeError("unexpected failure")


@api_view(["GET"])
def ok(request):
    return Response({"ok": True})


@api_view(["POST"])
def echo(request):
    return Response({"echo": request.data})


urlpatterns = [
    path("api/v1/test/boom", boom),
    path("api/v1/test/ok", ok),
    path("api/v1/test/echo", echo),
    path("", include(site_urlpatterns)),
]
