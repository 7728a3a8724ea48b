"""Event ingestion: validate, deduplicate by (external subscription, transaction id), append.

Exactly-once comes from the EventKey unique constraint, not from a Python check: keys are inserted
with ON CONFLICT DO NOTHING in the same transaction as the events, so concurrent retries of the
same transaction id produce one event. A retry with the same content is answered as a duplicate
(success, counted once); the same transaction id with other content is refused.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core import hooks
from core.errors import ValidationFailed
from core.limits import OUT_OF_RANGE
from customers.models import Customer, Subscription
from plans import aggregation_types, expressions
from usage import catalog_cache, storage
from usage.alerts import alerts_after_ingest
from usage.catalog_cache import MetricInfo
from usage.models import Event
from usage.parsing import EPOCH, ParsedEvent, parse_event, read_number

NUMERIC_AGGREGATIONS = aggregation_types.NUMERIC  # sum, max, latest, weighted sum


@dataclass
class StoredEvent:
    """What became of one accepted event."""

    event: ParsedEvent
    value: Decimal | None
    error_code: str
    created_at: datetime
    duplicate: bool = False
    # Lago's late event: its period's invoice was finalized before it arrived, so it is kept
    # but never billed; the lago id of that invoice.
    late_invoice_id: str | None = None


@dataclass
class IngestResult:
    accepted: dict[int, StoredEvent] = field(default_factory=dict)  # input index -> outcome
    rejected: dict[int, dict] = field(default_factory=dict)  # input index -> {field: [codes]}

    @property
    def stored(self) -> int:
        return sum(1 for e in self.accepted.values() if not e.duplicate)

    @property
    def duplicates(self) -> int:
        return sum(1 for e in self.accepted.values() if e.duplicate)

    @property
    def late(self) -> int:
        return sum(1 for e in self.accepted.values() if e.late_invoice_id)

    @property
    def unmatched(self) -> int:
        return sum(1 for e in self.accepted.values() if e.error_code and not e.duplicate)


def _customer_subscriptions(customer_ids: set[str]) -> dict[str, list[str]]:
    """external customer id -> external ids of its active subscriptions."""
    if not customer_ids:
        return {}
    found: dict[str, list[str]] = {
        external_id: []
        for external_id in Customer.objects.live()
        .filter(external_id__in=customer_ids)
        .values_list("external_id", flat=True)
    }
    active = Subscription.objects.filter(
        customer__external_id__in=customer_ids,
        customer__deleted_at__isnull=True,
        status=Subscription.Status.ACTIVE,
    ).values_list("customer__external_id", "external_id")
    for customer_id, subscription_id in active:
        found[customer_id].append(subscription_id)
    return found


def _resolve_customer(event: ParsedEvent, subscriptions: dict[str, list[str]]) -> dict:
    """The compact/customer form: the customer's one active subscription."""
    if event.external_subscription_id:
        return {}
    active = subscriptions.get(event.external_customer_id)
    if active is None:
        return {"external_customer_id": ["customer_not_found"]}
    if not active:
        return {"external_customer_id": ["no_active_subscription"]}
    if len(active) > 1:
        return {"external_customer_id": ["multiple_active_subscriptions"]}
    event.external_subscription_id = active[0]
    return {}


def expression_apply(event: ParsedEvent, metric) -> dict:
    """Lago: a metric's expression is evaluated on the event as sent and its result stored in
    the event's properties under the metric's field_name (as Lago's text: "2.0"), so the
    aggregation reads it like any sent value. {} or the errors of a failed evaluation
    (Lago's 422 expression_evaluation_failed)."""
    if isinstance(metric, MetricInfo):
        compiled = metric.expression
    else:  # a catalog row (the fee estimate)
        compiled = catalog_cache.compiled_expression(metric.expression)
    if compiled is None or not metric.field_name:
        return {}
    event.sent_fingerprint = event.fingerprint()  # a retry is judged on what was sent
    try:
        value = compiled.evaluate(
            code=event.code,
            timestamp=(event.timestamp - EPOCH) // timedelta(seconds=1),
            properties=event.properties,
        )
    except expressions.EvaluationError as exc:
        return expressions.error_details(exc, "", "expression_evaluation_failed")
    event.properties[metric.field_name] = expressions.format_result(value)
    return {}


def event_value_extract(event: ParsedEvent, metric) -> tuple[Decimal | None, dict]:
    """The metric's numeric field (after its expression, if any); a non-numeric value for a
    numeric metric is refused. `metric` is a MetricInfo or a BillableMetric row."""
    if metric is None:
        return None, {}
    errors = expression_apply(event, metric)
    if errors:
        return None, errors
    if event.compact_quantity is not None and metric.field_name:
        event.properties.setdefault(metric.field_name, event.compact_quantity)
    if metric.aggregation_type not in NUMERIC_AGGREGATIONS:
        return None, {}
    raw = event.properties.get(metric.field_name)
    if raw is None:
        return None, {}
    value, reason = read_number(raw)
    if reason == OUT_OF_RANGE:
        return None, {f"properties.{metric.field_name}": [reason]}
    if reason:
        return None, {"properties": [reason]}
    return value, {}


def _validate(
    raws: list, now: datetime, idempotency_key: str | None
) -> tuple[dict[int, ParsedEvent], dict[int, dict]]:
    max_future = timedelta(seconds=settings.EVENTS_MAX_FUTURE_SECONDS)
    parsed: dict[int, ParsedEvent] = {}
    rejected: dict[int, dict] = {}
    for index, raw in enumerate(raws):
        result = parse_event(raw, now=now, max_future=max_future, idempotency_key=idempotency_key)
        if isinstance(result, dict):
            rejected[index] = result
        else:
            parsed[index] = result
    return parsed, rejected


def _check_references(parsed: dict[int, ParsedEvent], rejected: dict[int, dict]):
    """Resolve customers, metrics and subscriptions in three queries for the whole batch."""
    customers = _customer_subscriptions(
        {e.external_customer_id for e in parsed.values() if e.external_customer_id}
    )
    for index, event in list(parsed.items()):
        errors = _resolve_customer(event, customers)
        if errors:
            rejected[index] = errors
            del parsed[index]
    metrics = catalog_cache.metrics_info({e.code for e in parsed.values()})
    known = catalog_cache.known_subscriptions({e.external_subscription_id for e in parsed.values()})
    outcomes: dict[int, tuple[Decimal | None, str, MetricInfo | None]] = {}
    for index, event in list(parsed.items()):
        metric = metrics.get(event.code)
        value, errors = event_value_extract(event, metric)
        if errors:
            rejected[index] = errors
            del parsed[index]
            continue
        if metric is None:
            error_code = Event.Error.UNKNOWN_METRIC
        elif event.external_subscription_id not in known:
            error_code = Event.Error.UNKNOWN_SUBSCRIPTION
        else:
            error_code = Event.Error.NONE
        outcomes[index] = (value, error_code, metric)
    return outcomes


def _dedupe_in_batch(parsed: dict[int, ParsedEvent], rejected: dict[int, dict]) -> dict:
    """First occurrence of each key wins; a later one is a duplicate or, if different, refused."""
    first: dict[tuple[str, str], int] = {}
    duplicates_of: dict[int, int] = {}
    for index, event in parsed.items():
        key = (event.external_subscription_id, event.transaction_id)
        if key not in first:
            first[key] = index
        elif parsed[first[key]].fingerprint() == event.fingerprint():
            duplicates_of[index] = first[key]
        else:
            rejected[index] = {"transaction_id": ["value_already_exist"]}
    return duplicates_of


def _dims(event: ParsedEvent, metric: MetricInfo | None, error_code: str, billed: bool):
    """Rollup dimensions: the properties the metric's filters and pricing groups look at."""
    if metric is None or error_code or billed:
        return None
    return {
        key: _dim_value(event.properties[key])
        for key in metric.rollup_keys
        if event.properties.get(key) is not None
    }


def _dim_value(value):
    """Filters compare properties as text (usage/aggregation.py); store them the same way."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value) if isinstance(value, dict | list | bool) else str(value)


@transaction.atomic
def _store(
    parsed: dict[int, ParsedEvent],
    outcomes: dict,
    duplicates_of: dict[int, int],
    rejected: dict[int, dict],
    *,
    now: datetime,
    already_billed: bool,
    skip_invalid: bool,
) -> dict[int, StoredEvent]:
    candidates = {i: e for i, e in parsed.items() if i not in duplicates_of and i not in rejected}
    fingerprints = {i: e.fingerprint() for i, e in candidates.items()}
    rows = []
    for index, event in candidates.items():
        value, error_code, metric = outcomes[index]
        rows.append(
            storage.EventRow(
                external_subscription_id=event.external_subscription_id,
                transaction_id=event.transaction_id,
                code=event.code,
                timestamp=event.timestamp,
                fingerprint=fingerprints[index],
                properties=event.properties,
                value=value,
                precise_total_amount_cents=event.precise_total_amount_cents,
                error_code=error_code,
                already_billed=already_billed,
                created_at=now,
                dims=_dims(event, metric, error_code, already_billed),
                dim_keys=",".join(["", *(metric.rollup_keys if metric else ()), ""]),
            )
        )
    inserted = storage.store(rows)
    existing = storage.existing_fingerprints(
        [
            (e.external_subscription_id, e.transaction_id)
            for e in candidates.values()
            if (e.external_subscription_id, e.transaction_id) not in inserted
        ]
    )
    accepted: dict[int, StoredEvent] = {}
    for index, event in candidates.items():
        key = (event.external_subscription_id, event.transaction_id)
        value, error_code, _ = outcomes[index]
        if key in inserted:
            accepted[index] = StoredEvent(event, value, error_code, now)
        elif existing.get(key) == fingerprints[index]:
            accepted[index] = StoredEvent(event, value, error_code, now, duplicate=True)
        else:
            rejected[index] = {"transaction_id": ["value_already_exist"]}
    if rejected and not skip_invalid:
        raise ValidationFailed({str(i): errors for i, errors in sorted(rejected.items())})
    for index, original in duplicates_of.items():
        if original in accepted:
            value, error_code, _ = outcomes[index]
            accepted[index] = StoredEvent(parsed[index], value, error_code, now, duplicate=True)
    return accepted


def events_ingest(
    *,
    raws: list,
    idempotency_key: str | None = None,
    skip_invalid: bool = False,
    already_billed: bool = False,
    now: datetime | None = None,
) -> IngestResult:
    """Validate and store a batch. All-or-nothing unless `skip_invalid` (the import command),
    which stores the valid events and reports the others."""
    now = now or timezone.now()
    parsed, rejected = _validate(raws, now, idempotency_key)
    if rejected and not skip_invalid:
        raise ValidationFailed({str(i): errors for i, errors in sorted(rejected.items())})
    outcomes = _check_references(parsed, rejected)
    duplicates_of = _dedupe_in_batch(parsed, rejected)
    if rejected and not skip_invalid:
        raise ValidationFailed({str(i): errors for i, errors in sorted(rejected.items())})
    accepted = _store(
        parsed,
        outcomes,
        duplicates_of,
        rejected,
        now=now,
        already_billed=already_billed,
        skip_invalid=skip_invalid,
    )
    _mark_late(accepted, now, already_billed)
    _followups_after_commit(accepted, already_billed)
    return IngestResult(accepted=accepted, rejected=rejected)


def _mark_late(accepted: dict[int, StoredEvent], now: datetime, already_billed: bool) -> None:
    """Events timed in a period whose invoice is already finalized (duplicates too: a retry of a
    late event is as late). Invoicing, a higher layer, knows the invoices: it answers the hook
    `usage.late_events` with one query per batch."""
    if already_billed:
        return
    events = {
        index: (stored.event.external_subscription_id, stored.event.timestamp)
        for index, stored in accepted.items()
        if not stored.error_code
    }
    if not events:
        return
    for answer in hooks.run("usage.late_events", events=events, now=now):
        for index, invoice_id in answer.items():
            accepted[index].late_invoice_id = invoice_id


def _followups_after_commit(accepted, already_billed: bool) -> None:
    """New usage may owe pay-in-advance fees or cross a usage threshold: announce the
    subscriptions with new usage; invoicing (a higher layer) schedules its follow-ups after
    commit (invoices/receivers.py)."""
    if already_billed:
        return
    subscriptions = {
        stored.event.external_subscription_id
        for stored in accepted.values()
        if not stored.duplicate and not stored.error_code
    }
    if subscriptions:
        hooks.run("usage.events_stored", external_subscription_ids=subscriptions)
        alerts_after_ingest(subscriptions)
