"""Lago's JSON of the catalog's entitlements: features and the entitlements of a plan."""

from core.api.formats import iso
from plans import privileges as rules
from plans.models import Feature, PlanEntitlement, Privilege


def privilege_json(privilege: Privilege) -> dict:
    return {
        "code": privilege.code,
        "name": privilege.name or None,
        "value_type": privilege.value_type,
        "config": privilege.config or {},
    }


def feature_json(feature: Feature) -> dict:
    return {
        "code": feature.code,
        "name": feature.name or None,
        "description": feature.description or None,
        "privileges": [privilege_json(p) for p in feature.privileges.all()],
        "created_at": iso(feature.created_at),
    }


def plan_entitlement_json(entitlement: PlanEntitlement) -> dict:
    feature = entitlement.feature
    return {
        "code": feature.code,
        "name": feature.name or None,
        "description": feature.description or None,
        "privileges": [
            {
                **privilege_json(value.privilege),
                "value": rules.cast(value.value, value.privilege.value_type),
            }
            for value in entitlement.values.all()
        ],
    }
