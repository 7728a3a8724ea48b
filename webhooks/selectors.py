"""Reads for webhooks: endpoint lookup, the endpoint limit, deliveries due for an attempt."""

import uuid
from datetime import datetime, timedelta

from django.db.models import Q

from core.errors import NotFound
from webhooks.models import WebhookDelivery, WebhookEndpoint

MAX_ENDPOINTS = 10  # Lago's WebhookEndpoint::LIMIT per organization
# A pending delivery never attempted after this long lost its enqueue (broker down at commit).
STALE_PENDING = timedelta(minutes=5)

Status = WebhookDelivery.Status


def webhook_endpoint_get(*, lago_id: str) -> WebhookEndpoint:
    """The endpoint with this lago_id; a malformed id is simply not found."""
    try:
        key = uuid.UUID(str(lago_id))
    except ValueError:
        raise NotFound("webhook_endpoint") from None
    endpoint = WebhookEndpoint.objects.filter(lago_id=key).first()
    if endpoint is None:
        raise NotFound("webhook_endpoint")
    return endpoint


def endpoint_limit_reached() -> bool:
    """True when no further endpoint may be created."""
    return WebhookEndpoint.objects.count() >= MAX_ENDPOINTS


def deliveries_due(now: datetime) -> list[int]:
    """Ids of deliveries to attempt now: retries that are due, attempts whose lease expired
    (worker lost mid-request) and pending deliveries whose enqueue was lost."""
    due = Q(status__in=[Status.PENDING, Status.RETRYING], next_attempt_at__lte=now)
    lost = Q(
        status=Status.PENDING, next_attempt_at__isnull=True, created_at__lte=now - STALE_PENDING
    )
    rows = WebhookDelivery.objects.filter(due | lost).order_by("next_attempt_at", "id")
    return list(rows.values_list("pk", flat=True))
