"""Reads of events (aggregation lives in usage/aggregation.py)."""

from datetime import datetime

from core.errors import NotFound
from usage.models import Event, EventKey


def event_get(*, transaction_id: str, external_subscription_id: str | None = None) -> Event:
    """An event by transaction id, located through its dedup key (an index seek, any partition)."""
    keys = EventKey.objects.filter(transaction_id=transaction_id)
    if external_subscription_id:
        keys = keys.filter(external_subscription_id=external_subscription_id)
    key = keys.order_by("-created_at").first()
    event = None
    if key is not None:
        event = Event.objects.filter(
            external_subscription_id=key.external_subscription_id,
            code=key.code,
            timestamp=key.timestamp,
            transaction_id=transaction_id,
        ).first()
    if event is None:
        raise NotFound("event")
    return event


def subscriptions_with_usage_received_since(since: datetime):
    """External subscription ids with billable events received at or after `since` (a subquery
    on the index of `created_at`)."""
    return (
        Event.objects.filter(created_at__gte=since, already_billed=False, error_code="")
        .order_by()
        .values("external_subscription_id")
        .distinct()
    )


def events_filtered(
    *,
    external_subscription_id: str | None = None,
    code: str | None = None,
    timestamp_from: datetime | None = None,
    timestamp_to: datetime | None = None,
):
    rows = Event.objects.order_by("-timestamp", "-id")
    if external_subscription_id:
        rows = rows.filter(external_subscription_id=external_subscription_id)
    if code:
        rows = rows.filter(code=code)
    if timestamp_from:
        rows = rows.filter(timestamp__gte=timestamp_from)
    if timestamp_to:
        rows = rows.filter(timestamp__lt=timestamp_to)
    return rows
