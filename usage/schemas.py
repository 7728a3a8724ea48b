"""OpenAPI declarations of the events endpoints (documentation only; see core/api/schema.py)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.api.schema import (
    PAGE,
    Date,
    DateTime,
    Dict,
    Int,
    List,
    Str,
    decimal_string,
    op,
    paginated,
    query,
    required_query,
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
    warnings = serializers.DictField(
        child=List(child=Str()),
        required=False,
        help_text="Ingestion answers only: field -> codes of what was accepted with a caveat, "
        'e.g. {"timestamp": ["period_already_invoiced"]}: the period\'s invoice was finalized '
        "before the event arrived, so it is stored but not billed. {} when none.",
    )


EVENT_ONE = wrapped("EventEnvelope", "event", Event())
EVENT_BATCH_INPUT = inline_serializer(
    name="EventBatchInput", fields={"events": EventInput(many=True)}
)
INSTANT_FEES = inline_serializer(name="InstantFees", fields={"fees": List(child=Dict())})

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
        EVENT_BATCH_INPUT,
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
    "estimate_instant_fees": op(
        "Fees of one event on its own, on pay-in-advance standard and percentage charges",
        INSTANT_FEES,
        wrapped("EventEstimateInputEnvelope", "event", EventInput()),
    ),
    "batch_estimate_instant_fees": op(
        "Instant fees of several events (nothing saved)",
        INSTANT_FEES,
        EVENT_BATCH_INPUT,
    ),
}


# --- a customer's usage (CustomerUsageActions in usage/api.py) -------------------------------


class ChargeUsage(serializers.Serializer):
    units = Str()
    events_count = Int()
    amount_cents = Int()
    amount_currency = Str()
    charge = Dict()
    billable_metric = Dict()
    filters = List(child=Dict())
    grouped_usage = List(child=Dict())


class CustomerUsage(serializers.Serializer):
    from_datetime = DateTime()
    to_datetime = DateTime()
    issuing_date = Date()
    currency = Str()
    amount_cents = Int()
    taxes_amount_cents = Int()
    total_amount_cents = Int()
    charges_usage = ChargeUsage(many=True)


SUBSCRIPTION_ID = required_query("external_subscription_id", "The subscription's external id")

CURRENT_USAGE = op(
    "Usage of the current period",
    wrapped("CurrentUsage", "customer_usage", CustomerUsage()),
    parameters=[SUBSCRIPTION_ID],
)
PROJECTED_USAGE = op(
    "Usage of the current period projected to its end",
    wrapped("ProjectedUsage", "customer_projected_usage", CustomerUsage()),
    parameters=[SUBSCRIPTION_ID],
)
PAST_USAGE = op(
    "Usage of closed periods",
    paginated("PastUsagePage", "usage_periods", CustomerUsage),
    parameters=[SUBSCRIPTION_ID, *PAGE, query("billable_metric_code")],
)
