"""The entitlements of a catalog plan (Lago's PlanEntitlementsUpdateService and the destroy
services): POST replaces, PATCH merges, DELETE removes a feature or one privilege value.

`entitlements` is Lago's body: {feature_code: {privilege_code: value}}. Every feature must
exist (404 feature_not_found), every privilege belong to its feature (404
privilege_not_found), every value fit its privilege's type (422, `<privilege>_privilege_value`).
All or nothing: the transaction rolls back on the first error."""

from django.db import transaction

from core.errors import NotFound, ValidationFailed
from core.locks import lock_one
from plans import privileges as rules
from plans.models import Feature, Plan, PlanEntitlement, PlanEntitlementValue, Privilege
from plans.selectors import plan_entitlement_get, plan_entitlements


def entitlements_payload(raw) -> dict[str, dict]:
    """{feature: {privilege: value}} from a request body's `entitlements` (absent: {}; a
    feature's null: no privileges)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValidationFailed({"entitlements": ["invalid_format"]})
    cleaned = {}
    for feature_code, values in raw.items():
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise ValidationFailed({"entitlements": ["invalid_format"]})
        cleaned[str(feature_code)] = values
    return cleaned


def features_by_code(codes) -> dict[str, Feature]:
    """The features named, with their privileges; NotFound("feature") if one is missing."""
    rows = Feature.objects.filter(code__in=list(codes)).prefetch_related("privileges")
    features = {f.code: f for f in rows}
    if len(features) != len(set(codes)):
        raise NotFound("feature")
    return features


def privilege_of(feature: Feature, code: str) -> Privilege:
    for privilege in feature.privileges.all():
        if privilege.code == code:
            return privilege
    raise NotFound("privilege")


def checked_value(privilege: Privilege, value) -> str:
    """The value as stored, or ValidationFailed with Lago's field and code."""
    error = rules.value_error(privilege.value_type, privilege.config, value)
    if error == "value_is_mandatory":
        raise ValidationFailed({"privilege.value": [error]})
    if error:
        raise ValidationFailed({f"{privilege.code}_privilege_value": [error]})
    return rules.stored(value)


@transaction.atomic
def plan_entitlements_update(*, plan: Plan, entitlements: dict, partial: bool) -> list:
    """Lago: a full update (POST) first deletes the plan's features not in the body, and for
    a feature kept replaces its values when privileges are sent (an empty object keeps them);
    a partial one (PATCH) only adds and updates."""
    plan = lock_one(Plan, plan.pk)
    entitlements = entitlements_payload(entitlements)
    features = features_by_code(entitlements.keys())
    if not partial:
        PlanEntitlement.objects.filter(plan=plan).exclude(feature__code__in=list(features)).delete()
    for feature_code, values in entitlements.items():
        feature = features[feature_code]
        entitlement, created = PlanEntitlement.objects.get_or_create(plan=plan, feature=feature)
        if not created and not partial and values:
            entitlement.values.exclude(privilege__code__in=list(values)).delete()
        for privilege_code, value in values.items():
            privilege = privilege_of(feature, str(privilege_code))
            PlanEntitlementValue.objects.update_or_create(
                entitlement=entitlement,
                privilege=privilege,
                defaults={"value": checked_value(privilege, value)},
            )
    return list(plan_entitlements(plan))


@transaction.atomic
def plan_entitlement_delete(*, entitlement: PlanEntitlement) -> None:
    """Remove the feature from the plan (the caller renders it first)."""
    PlanEntitlement.objects.filter(pk=entitlement.pk).delete()


@transaction.atomic
def plan_entitlement_privilege_delete(
    *, entitlement: PlanEntitlement, privilege_code: str
) -> PlanEntitlement:
    """Remove one privilege's value from the plan's entitlement; the privilege stays on the
    feature."""
    deleted, _ = entitlement.values.filter(privilege__code=privilege_code).delete()
    if not deleted:
        raise NotFound("privilege")
    return plan_entitlement_get(plan=entitlement.plan, feature_code=entitlement.feature.code)
