"""Writes to the catalog. Metrics in metrics.py, plans with their charges in plans.py."""

from plans.services.metrics import (
    billable_metric_create,
    billable_metric_delete,
    billable_metric_expression_evaluate,
    billable_metric_update,
    metric_errors,
)
from plans.services.plans import (
    charge_errors,
    plan_create,
    plan_delete,
    plan_errors,
    plan_metadata_delete_key,
    plan_metadata_set,
    plan_override_create,
    plan_soft_delete,
    plan_update,
)

__all__ = [
    "billable_metric_create",
    "billable_metric_delete",
    "billable_metric_expression_evaluate",
    "billable_metric_update",
    "charge_errors",
    "metric_errors",
    "plan_create",
    "plan_delete",
    "plan_errors",
    "plan_metadata_delete_key",
    "plan_metadata_set",
    "plan_override_create",
    "plan_soft_delete",
    "plan_update",
]
