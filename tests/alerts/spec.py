"""Lago's OpenAPI schemas for alerts, read from ../shared/reference (never copied here)."""

import re
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "lago-openapi.yaml"

# The spec types AlertObject.billable_metric as an object, yet Lago sends null for the alerts
# that have no metric (its serializer: `model.billable_metric_id ? ... : nil`).
# The nested metric is plans.api.metric_json's (no expressions: `expression` is null).
KNOWN_GAPS = (
    r"(alerts/\*/|alert/)?billable_metric: None is not of type 'object'",
    r"(alerts/\*/|alert/)?billable_metric/expression: None is not of type 'string'",
)

_spec = None


def spec() -> dict | None:
    global _spec
    if _spec is None and SPEC.exists():
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        _spec = yaml.load(SPEC.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    return _spec


def unexpected(schema: str, payload: dict) -> list[str]:
    """How `payload` breaks components/schemas/<schema>, less the known gaps."""
    document = spec()
    if document is None:
        return []
    validator = Draft202012Validator({**document, "$ref": f"#/components/schemas/{schema}"})
    found = []
    for error in validator.iter_errors(payload):
        path = "/".join("*" if isinstance(part, int) else str(part) for part in error.path)
        found.append(f"{path}: {error.message}")
    return [e for e in found if not any(re.fullmatch(gap, e) for gap in KNOWN_GAPS)]
