"""OpenAPI declarations of the webhook endpoints API (documentation only; see
core/api/schema.py)."""

from rest_framework import serializers

from core.api.schema import Choice, DateTime, Str, codes, crud_ops


class WebhookEndpointInput(serializers.Serializer):
    webhook_url = serializers.URLField()
    signature_algo = Choice(["hmac", "jwt"], required=False)
    name = Str(required=False, allow_null=True)
    event_types = codes(required=False, help_text="Webhook types; empty = all")


class WebhookEndpoint(WebhookEndpointInput):
    lago_id = Str()
    lago_organization_id = Str()
    created_at = DateTime()


WEBHOOK_ENDPOINT_VIEWS = crud_ops(
    "webhook endpoint",
    "webhook_endpoint",
    "webhook_endpoints",
    WebhookEndpoint,
    WebhookEndpointInput,
)
