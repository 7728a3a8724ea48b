"""Lago's OpenAPI schemas for alerts, read from ../shared/reference (never copied here)."""

from tests.lago_spec import schema_errors

# The spec types AlertObject.billable_metric as an object, yet Lago sends null for the alerts
# that have no metric (its serializer: `model.billable_metric_id ? ... : nil`).
# The nested metric is plans.api.metric_json's (no expressions: `expression` is null).
KNOWN_GAPS = (
    r"(alerts/\*/|alert/)?billable_metric: None is not of type 'object'",
    r"(alerts/\*/|alert/)?billable_metric/expression: None is not of type 'string'",
)


def unexpected(schema: str, payload: dict) -> list[str]:
    """How `payload` breaks components/schemas/<schema>, less the known gaps."""
    return schema_errors(schema, payload, KNOWN_GAPS)
