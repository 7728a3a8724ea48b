"""OpenAPI declarations of the webhook endpoints API (documentation only; see
core/api/schema.py)."""

from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from core.api.schema import Choice, DateTime, Str, codes, crud_ops, op, wrapped


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


class WebhookPublicKey(serializers.Serializer):
    public_key = Str(help_text="base64 of the PEM public key (60-character lines, as Lago)")


WEBHOOK_KEY_VIEWS = {
    "public_key": op(
        "The public key of jwt webhook signatures, as text (deprecated by Lago)", OpenApiTypes.STR
    ),
    "json_public_key": op(
        "The public key of jwt webhook signatures",
        wrapped("WebhookPublicKeyEnvelope", "webhook", WebhookPublicKey()),
    ),
}
