"""Billable metric services: create, update, soft delete; rules shared by API and admin."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import ValidationFailed
from core.locks import lock_one
from core.validation import Errors, check_choice, check_code
from plans import aggregation_types
from plans.models import AggregationType, BillableMetric, BillableMetricFilter, RoundingFunction
from plans.services.changes import catalog_changed_on_commit

NOT_RECURRING = aggregation_types.NOT_RECURRING  # count, max, latest
LOCKED_WHEN_USED = ("code", "aggregation_type", "field_name", "recurring", "weighted_interval")
METRIC_FIELDS = (
    "name",
    "code",
    "description",
    "aggregation_type",
    "field_name",
    "recurring",
    "weighted_interval",
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
