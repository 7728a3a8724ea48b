"""Lago's OpenAPI schemas for features and entitlements, read from ../shared/reference (never
copied here)."""

import re
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator

SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "lago-openapi.yaml"

# The spec types SubscriptionEntitlementPrivilegeObject.plan_value as integer, boolean or
# string, yet Lago's serializer sends null for a privilege only the subscription has (no plan
# value): `Utils::Entitlement.cast_value(nil, ...)`.
KNOWN_GAPS = (r"entitlements/\*/privileges/\*/plan_value: None is not valid under any .*",)

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
