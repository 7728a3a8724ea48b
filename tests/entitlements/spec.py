"""Lago's OpenAPI schemas for features and entitlements, read from ../shared/reference (never
copied here)."""

from tests.lago_spec import schema_errors, spec_document

# The spec types SubscriptionEntitlementPrivilegeObject.plan_value as integer, boolean or
# string, yet Lago's serializer sends null for a privilege only the subscription has (no plan
# value): `Utils::Entitlement.cast_value(nil, ...)`.
KNOWN_GAPS = (r"entitlements/\*/privileges/\*/plan_value: None is not valid under any .*",)


def unexpected(schema: str, payload: dict) -> list[str]:
    """How `payload` breaks components/schemas/<schema>, less the known gaps."""
    return schema_errors(schema, payload, KNOWN_GAPS)


spec = spec_document
