"""The site's URLs plus the webhook endpoints API (registered in api_urls.py by the site)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from billing_site.urls import urlpatterns as site_urlpatterns
from webhooks.api import WebhookEndpointViewSet

router = SimpleRouter(trailing_slash=False)
router.register("webhook_endpoints", WebhookEndpointViewSet, basename="webhook_endpoint")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("", include(site_urlpatterns)),
]
