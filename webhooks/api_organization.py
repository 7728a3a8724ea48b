"""The webhook side of /api/v1/organizations (Lago's `webhook_url`, `webhook_urls`), mixed into
core's OrganizationViewSet in billing_site/api_urls.py (core cannot import webhooks)."""

from webhooks.models import WebhookEndpoint
from webhooks.services import webhook_endpoint_create, webhook_endpoint_update


class OrganizationWebhookActions:
    def organization_extras(self, organization) -> dict:
        """Every endpoint's URL, oldest first; `webhook_url` is the first (Lago's serializer)."""
        urls = list(
            WebhookEndpoint.objects.order_by("created_at", "id").values_list(
                "webhook_url", flat=True
            )
        )
        return {"webhook_url": urls[0] if urls else None, "webhook_urls": urls}

    def organization_apply(self, data: dict) -> None:
        """`webhook_url` changes the first endpoint's URL, or creates one (Lago)."""
        if "webhook_url" not in data:
            return
        first = WebhookEndpoint.objects.order_by("created_at", "id").first()
        body = {"webhook_url": data["webhook_url"] or ""}
        if first is None:
            webhook_endpoint_create(data=body)
        else:
            webhook_endpoint_update(endpoint=first, data=body)
