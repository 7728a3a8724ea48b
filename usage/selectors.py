"""Reads of events (aggregation lives in usage/aggregation.py)."""

from datetime import datetime

from core.errors import NotFound
from core.limits import MIN_TIMESTAMP
from usage.models import Event, EventKey


def readable_events():
    """Events within the representable range. A timestamp before 1970 cannot be sent any more
    (core/limits.py); one stored earlier may be 1 BC, which the database driver cannot read
    back, so such rows are left out of every read (and of every period: none starts before)."""
    return Event.objects.filter(timestamp__gte=MIN_TIMESTAMP)


def event_get(*, transaction_id: str, external_subscription_id: str | None = None) -> Event:
    """An event by transaction id, located through its dedup key (an index seek, any partition)."""
    keys = EventKey.objects.filter(transaction_id=transaction_id, timestamp__gte=MIN_TIMESTAMP)
    if external_subscription_id:
        keys = keys.filter(external_subscription_id=external_subscription_id)
    key = keys.order_by("-created_at").first()
    event = None
    if key is not None:
        event = (
            readable_events()
            .filter(
                external_subscription_id=key.external_subscription_id,
                code=key.code,
                timestamp=key.timestamp,
                transaction_id=transaction_id,
            )
            .first()
        )
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
    rows = readable_events().order_by("-timestamp", "-id")
    if external_subscription_id:
        rows = rows.filter(external_subscription_id=external_subscription_id)
    if code:
        rows = rows.filter(code=code)
    if timestamp_from:
        rows = rows.filter(timestamp__gte=timestamp_from)
    if timestamp_to:
        rows = rows.filter(timestamp__lt=timestamp_to)
    return rows
