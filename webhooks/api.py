"""REST API v1 for webhook endpoints (Lago wire format, `client.webhook_endpoints`)."""

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action

from core.api.formats import iso
from core.api.viewsets import LagoViewSet
from core.selectors import organization_get
from webhooks.keys import public_key_base64
from webhooks.models import WebhookEndpoint
from webhooks.schemas import WEBHOOK_ENDPOINT_VIEWS, WEBHOOK_KEY_VIEWS
from webhooks.selectors import webhook_endpoint_get
from webhooks.services import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_update,
)
from webhooks.signing import endpoint_secret


def webhook_endpoint_json(endpoint: WebhookEndpoint, organization_id: str) -> dict:
    """Lago's WebhookEndpoint object; the signing secret is never part of it."""
    return {
        "lago_id": str(endpoint.lago_id),
        "lago_organization_id": organization_id,
        "webhook_url": endpoint.webhook_url,
        "signature_algo": endpoint.signature_algo,
        "name": endpoint.name or None,
        "event_types": endpoint.event_types,
        "created_at": iso(endpoint.created_at),
    }


@extend_schema_view(**WEBHOOK_ENDPOINT_VIEWS)
class WebhookEndpointViewSet(LagoViewSet):
    """CRUD of webhook endpoints, at most 10 (Lago's limit).

    Only the create response carries `signing_secret`, the HMAC key with which the integrator
    verifies `X-Lago-Signature` (base64 HMAC-SHA256 of the raw body). It is derived from the
    server key, not stored, and is also shown on the endpoint's admin page.
    """

    lago_root, lago_plural = "webhook_endpoint", "webhook_endpoints"
    lookup_field = "lago_id"

    def get_queryset(self):
        return WebhookEndpoint.objects.order_by("-created_at", "-id")

    def _json(self, endpoint: WebhookEndpoint) -> dict:
        return webhook_endpoint_json(endpoint, str(organization_get().lago_id))

    def create(self, request):
        endpoint = webhook_endpoint_create(data=self.root_payload(request))
        return self.render_one(
            {**self._json(endpoint), "signing_secret": endpoint_secret(endpoint)}
        )

    def list(self, request):
        organization_id = str(organization_get().lago_id)
        return self.render_page(
            self.get_queryset(), lambda row: webhook_endpoint_json(row, organization_id)
        )

    def retrieve(self, request, lago_id=None):
        return self.render_one(self._json(webhook_endpoint_get(lago_id=lago_id)))

    def update(self, request, lago_id=None):
        """Partial, like Lago's PUT: fields not sent keep their value."""
        endpoint = webhook_endpoint_get(lago_id=lago_id)
        data = self.root_payload(request)
        return self.render_one(self._json(webhook_endpoint_update(endpoint=endpoint, data=data)))

    def destroy(self, request, lago_id=None):
        endpoint = webhook_endpoint_get(lago_id=lago_id)
        return self.render_one(self._json(webhook_endpoint_delete(endpoint=endpoint)))


@extend_schema_view(**WEBHOOK_KEY_VIEWS)
class WebhookKeyViewSet(LagoViewSet):
    """Lago's GET /webhooks/public_key (text, deprecated) and /webhooks/json_public_key: the
    base64 of the PEM public key that verifies "jwt" webhook signatures."""

    lago_root = "webhook"

    @action(detail=False, methods=["get"], url_path="public_key")
    def public_key(self, request):
        return HttpResponse(public_key_base64(), content_type="text/plain; charset=utf-8")

    @action(detail=False, methods=["get"], url_path="json_public_key")
    def json_public_key(self, request):
        return self.render_one({"public_key": public_key_base64()})
