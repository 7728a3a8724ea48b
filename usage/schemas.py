"""OpenAPI declarations of the events endpoints (documentation only; see core/api/schema.py)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.api.schema import (
    PAGE,
    DateTime,
    Dict,
    List,
    Str,
    decimal_string,
    op,
    paginated,
    query,
    wrapped,
)


class EventInput(serializers.Serializer):
    transaction_id = Str()
    external_subscription_id = Str()
    code = Str(help_text="The billable metric's code")
    timestamp = serializers.JSONField(
        required=False, help_text="Unix seconds (number or string) or ISO 8601; default now"
    )
    properties = Dict(required=False)
    precise_total_amount_cents = decimal_string(required=False, allow_null=True)


class Event(serializers.Serializer):
    lago_id = Str(required=False)
    transaction_id = Str()
    external_subscription_id = Str()
    code = Str()
    timestamp = DateTime()
    properties = Dict()
    precise_total_amount_cents = decimal_string(allow_null=True)
    created_at = DateTime()
    status = Str(required=False)
    error_code = Str(allow_null=True)


EVENT_ONE = wrapped("EventEnvelope", "event", Event())

EVENT_VIEWS = {
    "create": op(
        "Send one usage event",
        EVENT_ONE,
        wrapped("EventInputEnvelope", "event", EventInput()),
        parameters=[],
    ),
    "batch": op(
        "Send up to EVENTS_BATCH_MAX events, all or nothing",
        inline_serializer(name="EventList", fields={"events": Event(many=True)}),
        inline_serializer(name="EventBatchInput", fields={"events": EventInput(many=True)}),
    ),
    "retrieve": op(
        "Find an event by transaction id",
        EVENT_ONE,
        parameters=[query("external_subscription_id")],
    ),
    "list": op(
        "List events, newest first",
        paginated("EventPage", "events", Event),
        parameters=[
            *PAGE,
            query("external_subscription_id"),
            query("code"),
            query("timestamp_from", OpenApiTypes.DATETIME),
            query("timestamp_to", OpenApiTypes.DATETIME),
        ],
    ),
    "estimate_fees": op(
        "Fees one event would add on pay-in-advance charges (nothing saved)",
        inline_serializer(name="EstimatedFees", fields={"fees": List(child=Dict())}),
        wrapped("EventEstimateInputEnvelope", "event", EventInput()),
    ),
}
