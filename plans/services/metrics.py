"""Billable metric services: create, update, soft delete; rules shared by API and admin."""

from datetime import UTC

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.errors import ValidationFailed
from core.limits import MAX_UNIX_SECONDS, NotANumber, OutOfRange, strict_decimal
from core.locks import lock_one
from core.validation import Errors, check_choice, check_code
from plans import aggregation_types, expressions
from plans.models import AggregationType, BillableMetric, BillableMetricFilter, RoundingFunction
from plans.services.changes import catalog_changed_on_commit

NOT_RECURRING = aggregation_types.NOT_RECURRING  # count, max, latest
LOCKED_WHEN_USED = (
    "code",
    "aggregation_type",
    "field_name",
    "recurring",
    "weighted_interval",
    "expression",
)
METRIC_FIELDS = (
    "name",
    "code",
    "description",
    "aggregation_type",
    "field_name",
    "recurring",
    "weighted_interval",
    "expression",
    "rounding_function",
    "rounding_precision",
)


def _filter_errors(filters) -> str | None:
    if not isinstance(filters, list):
        return "invalid_format"
    keys = set()
    for item in filters:
        values = item.get("values") if isinstance(item, dict) else None
        key = item.get("key") if isinstance(item, dict) else None
        if not key or not isinstance(key, str) or key in keys:
            return "invalid_format"
        if not isinstance(values, list) or not values:
            return "invalid_format"
        if not all(isinstance(v, str) and v for v in values):
            return "invalid_format"
        keys.add(key)
    return None


def _expression_error(expression, spec) -> str | None:
    """Lago's `invalid_expression` for text that does not parse; an expression needs a field to
    store its result in, so a count metric cannot have one (Lago's documentation)."""
    if not expression:
        return None
    if expressions.validate(expression) is not None:
        return expressions.INVALID_EXPRESSION
    if spec is not None and not spec.needs_field:
        return "not_compatible_with_aggregation_type"
    return None


def metric_errors(data: dict, *, instance: BillableMetric | None = None) -> Errors:
    """Every rule a metric must satisfy, on the merged state (instance + changes)."""
    errors = Errors()
    errors.add("name", None if data.get("name") else "value_is_mandatory")
    errors.add("code", check_code(data.get("code")))
    aggregation = data.get("aggregation_type")
    errors.add("aggregation_type", check_choice(aggregation, AggregationType.values))
    spec = aggregation_types.REGISTRY.get(aggregation)
    needs_field = spec is not None and spec.needs_field
    if needs_field and not data.get("field_name"):
        errors.add("field_name", "value_is_mandatory")
    if data.get("recurring") and aggregation in NOT_RECURRING:
        errors.add("recurring", "not_compatible_with_aggregation_type")
    errors.add("expression", _expression_error(data.get("expression"), spec))
    if data.get("weighted_interval") not in (None, "", "seconds"):
        errors.add("weighted_interval", "value_is_invalid")
    if data.get("rounding_function"):
        errors.add(
            "rounding_function", check_choice(data["rounding_function"], RoundingFunction.values)
        )
    precision = data.get("rounding_precision")
    if precision is not None and (isinstance(precision, bool) or not isinstance(precision, int)):
        errors.add("rounding_precision", "value_is_invalid")
    if "filters" in data:
        errors.add("filters", _filter_errors(data["filters"]))
    code_taken = BillableMetric.objects.live().filter(code=data.get("code"))
    if instance is not None:
        code_taken = code_taken.exclude(pk=instance.pk)
        if instance.charges.live().exists():
            for field in LOCKED_WHEN_USED:
                if field in data and data[field] != getattr(instance, field):
                    errors.add(field, "cannot_change_when_used_by_charges")
    if data.get("code") and code_taken.exists():
        errors.add("code", "value_already_exist")
    return errors


def _normalise(data: dict) -> dict:
    data = dict(data)
    spec = aggregation_types.REGISTRY.get(data.get("aggregation_type"))
    if spec is not None and not spec.needs_field:
        data["field_name"] = ""
    if spec is not None and spec.time_weighted:
        data["weighted_interval"] = "seconds"
    for field in ("description", "field_name", "weighted_interval", "rounding_function"):
        if field in data and data[field] is None:
            data[field] = ""
    expression = data.get("expression")
    if expression is None or (isinstance(expression, str) and not expression.strip()):
        data["expression"] = ""  # Lago: a blank expression is none
    return data


def _replace_filters(metric: BillableMetric, filters: list[dict]) -> None:
    metric.filters.exclude(key__in=[f["key"] for f in filters]).delete()
    for item in filters:
        BillableMetricFilter.objects.update_or_create(
            metric=metric, key=item["key"], defaults={"values": list(item["values"])}
        )


def _save(metric: BillableMetric, data: dict) -> BillableMetric:
    for field in METRIC_FIELDS:
        if field in data:
            setattr(metric, field, data[field])
    if "unit_cost" in data:
        metric.unit_cost = data["unit_cost"]
    try:
        with transaction.atomic():
            metric.save()
    except IntegrityError as exc:  # a concurrent create with the same code
        raise ValidationFailed({"code": ["value_already_exist"]}) from exc
    if "filters" in data:
        _replace_filters(metric, data["filters"])
    return metric


@transaction.atomic
def billable_metric_create(*, data: dict) -> BillableMetric:
    """Create a metric from Lago-shaped fields (name, code, aggregation_type, field_name, ...)."""
    catalog_changed_on_commit()  # ingestion sees the change
    data = _normalise(data)
    errors = metric_errors(data)
    if errors:
        raise ValidationFailed(errors)
    return _save(BillableMetric(), data)


@transaction.atomic
def billable_metric_update(*, metric: BillableMetric, data: dict) -> BillableMetric:
    """Partial update; aggregation fields are locked once charges use the metric."""
    catalog_changed_on_commit()  # ingestion sees the change
    metric = lock_one(BillableMetric, metric.pk)
    current = {field: getattr(metric, field) for field in METRIC_FIELDS}
    changes = _normalise({**current, **data})
    errors = metric_errors(changes, instance=metric)
    if errors:
        raise ValidationFailed(errors)
    return _save(metric, changes)


@transaction.atomic
def billable_metric_delete(*, metric: BillableMetric) -> BillableMetric:
    """Soft delete; the metric's charges go with it (Lago). Past invoices keep their fees."""
    catalog_changed_on_commit()  # ingestion sees the change
    metric = lock_one(BillableMetric, metric.pk)
    now = timezone.now()
    metric.deleted_at = now
    metric.save(update_fields=["deleted_at", "updated_at"])
    metric.charges.live().update(deleted_at=now)
    return metric


def _evaluation_event(event) -> tuple[str, int, dict]:
    """Lago's evaluate_expression event: {code, timestamp (Unix seconds or ISO 8601, default
    now), properties}; an absent event is an empty one. ValidationFailed `invalid_event`."""
    invalid = ValidationFailed({"event": ["invalid_event"]})
    event = {} if event is None else event
    if not isinstance(event, dict):
        raise invalid
    code = event.get("code")
    code = "" if code is None else code
    properties = event.get("properties")
    properties = {} if properties is None else properties
    if isinstance(code, bool) or not isinstance(code, str | int):
        raise invalid
    if not isinstance(properties, dict):
        raise invalid
    timestamp = event.get("timestamp")
    if timestamp is None or timestamp == "":
        return str(code), int(timezone.now().timestamp()), properties
    try:
        seconds = strict_decimal(timestamp)
    except OutOfRange as exc:
        raise invalid from exc
    except NotANumber:
        try:
            moment = parse_datetime(timestamp) if isinstance(timestamp, str) else None
            if moment is None:
                raise invalid from None
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return str(code), int(moment.timestamp()), properties
        except (ValueError, OverflowError) as exc:  # month 13, a year past 9999 by its offset
            raise invalid from exc
    if abs(seconds) > MAX_UNIX_SECONDS:
        raise invalid
    return str(code), int(seconds), properties


def billable_metric_expression_evaluate(*, expression, event) -> str:
    """POST /billable_metrics/evaluate_expression: the expression's value on a sample event, as
    Lago renders it ("2.0", or text). Lago's errors: `expression` value_is_mandatory or
    invalid_expression, `event` invalid_event (with the reason beside it)."""
    if expression is None or (isinstance(expression, str) and not expression.strip()):
        raise ValidationFailed({"expression": ["value_is_mandatory"]})
    try:
        compiled = expressions.parse(expression)
    except expressions.ParseError as exc:
        raise ValidationFailed({"expression": [expressions.INVALID_EXPRESSION]}) from exc
    code, timestamp, properties = _evaluation_event(event)
    try:
        value = compiled.evaluate(code=code, timestamp=timestamp, properties=properties)
    except expressions.EvaluationError as exc:
        details = expressions.error_details(exc, "event.", "invalid_event")
        details["event"] = details.pop("expression")
        raise ValidationFailed(details) from exc
    return expressions.format_result(value)
