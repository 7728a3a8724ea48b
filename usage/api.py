"""REST API v1 for events: single, batch (up to EVENTS_BATCH_MAX), find, list, estimate_fees;
and a customer's usage (current, projected, past), mixed into the customers' viewset in
billing_site/api_urls.py (customers cannot import usage, a higher layer)."""

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from core.api.formats import iso
from core.api.pagination import LagoPagination
from core.api.params import query_datetime
from core.api.viewsets import LagoViewSet
from core.errors import NotFound, ValidationFailed
from customers.models import Subscription
from customers.selectors import customer_get, subscription_get
from usage.models import Event
from usage.reports import current_usage, past_periods, projected_usage, subscription_usage
from usage.schemas import CURRENT_USAGE, EVENT_VIEWS, PAST_USAGE, PROJECTED_USAGE
from usage.selectors import event_get, events_filtered
from usage.services import StoredEvent, events_ingest
from usage.services.estimate import (
    estimate_fees,
    estimate_instant_fees,
    estimate_instant_fees_batch,
)
from usage.usage_json import projected_usage_json, usage_json


def _timestamp(moment) -> str:
    """Lago's event timestamps carry milliseconds."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# The event is stored but its period's invoice was finalized before it arrived: never billed.
PERIOD_ALREADY_INVOICED = "period_already_invoiced"


def stored_event_json(outcome: StoredEvent) -> dict:
    event = outcome.event
    return {
        "transaction_id": event.transaction_id,
        "lago_customer_id": None,  # Lago stores events raw: neither id is resolved at ingest
        "lago_subscription_id": None,
        "external_subscription_id": event.external_subscription_id,
        "code": event.code,
        "timestamp": _timestamp(event.timestamp),
        "properties": event.properties,
        "precise_total_amount_cents": _decimal(event.precise_total_amount_cents),
        "created_at": iso(outcome.created_at),
        "status": "duplicate" if outcome.duplicate else "stored",
        "error_code": outcome.error_code or None,
        # A key Lago's Event has not (clients ignore it), like status and error_code.
        "warnings": {"timestamp": [PERIOD_ALREADY_INVOICED]} if outcome.late_invoice_id else {},
    }


def event_json(event: Event) -> dict:
    return {
        "lago_id": str(event.pk),
        "transaction_id": event.transaction_id,
        "lago_customer_id": None,  # Lago stores events raw: neither id is resolved at ingest
        "lago_subscription_id": None,
        "external_subscription_id": event.external_subscription_id,
        "code": event.code,
        "timestamp": _timestamp(event.timestamp),
        "properties": event.properties,
        "precise_total_amount_cents": _decimal(event.precise_total_amount_cents),
        "created_at": iso(event.created_at),
        "error_code": event.error_code or None,
    }


def _decimal(value) -> str | None:
    return None if value is None else format(value.normalize(), "f")


@extend_schema_view(**EVENT_VIEWS)
class EventViewSet(LagoViewSet):
    lago_root, lago_plural = "event", "events"
    lookup_field = "transaction_id"
    max_body_setting = "EVENTS_MAX_BODY_BYTES"  # batches of up to EVENTS_BATCH_MAX events

    def create(self, request):
        """One event: {"event": {...}}, or the compact {"user_id", "event_type", ...} form."""
        data = request.data
        raw = data.get("event") if isinstance(data, dict) and "event" in data else data
        if not isinstance(raw, dict):
            raise ParseError("param is missing or the value is empty: event")
        key = request.headers.get("Idempotency-Key")
        try:
            result = events_ingest(raws=[raw], idempotency_key=key)
        except ValidationFailed as exc:
            raise ValidationFailed(exc.errors.get("0", exc.errors)) from exc
        return self.render_one(stored_event_json(result.accepted[0]))

    @action(detail=False, methods=["post"], url_path="batch")
    def batch(self, request):
        """Up to EVENTS_BATCH_MAX events, all or nothing; errors by index."""
        raws = request.data.get("events") if isinstance(request.data, dict) else None
        if not isinstance(raws, list):
            raise ParseError("param is missing or the value is empty: events")
        if not raws:
            raise ValidationFailed({"events": ["value_is_mandatory"]})
        if len(raws) > settings.EVENTS_BATCH_MAX:
            raise ValidationFailed({"events": ["too_many_events"]})
        result = events_ingest(raws=raws)
        events = [stored_event_json(result.accepted[i]) for i in sorted(result.accepted)]
        return Response({"events": events})

    def retrieve(self, request, transaction_id=None):
        subscription_id = request.query_params.get("external_subscription_id")
        event = event_get(transaction_id=transaction_id, external_subscription_id=subscription_id)
        return self.render_one(event_json(event))

    def list(self, request):
        params = request.query_params
        rows = events_filtered(
            external_subscription_id=params.get("external_subscription_id"),
            code=params.get("code"),
            timestamp_from=query_datetime(params, "timestamp_from"),
            timestamp_to=query_datetime(params, "timestamp_to"),
        )
        return self.render_page(rows, event_json)

    @action(detail=False, methods=["post"], url_path="estimate_fees")
    def estimate_fees(self, request):
        """The fees one hypothetical event would add on pay-in-advance charges (nothing saved)."""
        raw = self.root_payload(request)
        return Response({"fees": estimate_fees(raw=raw)})

    @action(detail=False, methods=["post"], url_path="estimate_instant_fees")
    def estimate_instant_fees(self, request):
        """Lago's instant estimate: the event priced on its own (nothing saved)."""
        raw = self.root_payload(request)
        return Response({"fees": estimate_instant_fees(raw=raw)})

    @action(detail=False, methods=["post"], url_path="batch_estimate_instant_fees")
    def batch_estimate_instant_fees(self, request):
        """Up to EVENTS_BATCH_MAX events, each priced on its own (nothing saved)."""
        raws = request.data.get("events") if isinstance(request.data, dict) else None
        if not isinstance(raws, list):
            raise ParseError("param is missing or the value is empty: events")
        if len(raws) > settings.EVENTS_BATCH_MAX:
            raise ValidationFailed({"events": ["too_many_events"]})
        return Response({"fees": estimate_instant_fees_batch(raws=raws)})


# --- a customer's usage: /customers/{external_id}/current_usage, projected_usage, past_usage --


class ListAsQueryset(list):
    """A list with .count(), so the Lago paginator can page it."""

    def count(self, *args) -> int:
        return len(self)


def requested_subscription(request, external_id: str) -> Subscription:
    """The subscription of ?external_subscription_id=, which must belong to the customer."""
    customer = customer_get(external_id=external_id)
    subscription_id = request.query_params.get("external_subscription_id")
    if not subscription_id:
        raise NotFound("subscription")
    subscription = subscription_get(external_id=subscription_id)
    if subscription.customer_id != customer.pk:
        raise NotFound("subscription")
    return subscription


# The usage endpoints of CustomerViewSet, mixed in by billing_site/api_urls.py (no docstring: the
# OpenAPI descriptions of the routed viewset keep coming from LagoViewSet's).
class CustomerUsageActions:
    @CURRENT_USAGE
    @action(detail=True, methods=["get"], url_path="current_usage")
    def current_usage(self, request, external_id=None):
        """Usage of the current period, priced and taxed as its invoice will be."""
        subscription = requested_subscription(request, external_id)
        if subscription.status != Subscription.Status.ACTIVE:
            raise NotFound("subscription")
        return Response({"customer_usage": usage_json(current_usage(subscription))})

    @PROJECTED_USAGE
    @action(detail=True, methods=["get"], url_path="projected_usage")
    def projected_usage(self, request, external_id=None):
        """The current period extrapolated to its end at the pace so far."""
        subscription = requested_subscription(request, external_id)
        if subscription.status != Subscription.Status.ACTIVE:
            raise NotFound("subscription")
        now = timezone.now()
        current = current_usage(subscription, now)
        body = projected_usage_json(current, projected_usage(current, now))
        return Response({"customer_projected_usage": body})

    @PAST_USAGE
    @action(detail=True, methods=["get"], url_path="past_usage")
    def past_usage(self, request, external_id=None):
        """Closed periods, newest first, paginated like every list."""
        subscription = requested_subscription(request, external_id)
        bounds = past_periods(subscription)
        paginator = LagoPagination()
        page = paginator.paginate_queryset(ListAsQueryset(bounds), request, self)
        reports = [usage_json(subscription_usage(subscription, lo, hi)) for lo, hi in page]
        return Response({"usage_periods": reports, "meta": paginator.meta()})
