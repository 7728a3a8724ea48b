"""A subscription's entitlements: its plan's, merged with its own overrides and removals
(Lago's SubscriptionEntitlementQuery and the Subscription* entitlement services).

The merge, feature by feature then privilege by privilege:
- a feature of the plan is shown unless the subscription removed it (a SubscriptionFeatureRemoval
  of the feature); a feature only the subscription has is shown too;
- a privilege's value is the subscription's override, else the plan's; a plan's privilege the
  subscription removed (a removal of the privilege) is not shown;
- features in order of the plan's entitlement (else the override) creation, privileges likewise.
The plan is the catalog plan (the parent of an override plan). A deleted feature or privilege
is gone everywhere: deleting it deletes its plan and subscription rows (cascade)."""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q

from core.errors import NotFound
from customers.locks import lock_subscription
from customers.models import (
    Subscription,
    SubscriptionEntitlement,
    SubscriptionEntitlementValue,
    SubscriptionFeatureRemoval,
)
from plans import privileges as rules
from plans.models import Feature, PlanEntitlement, Privilege
from plans.services.entitlements import (
    checked_value,
    entitlements_payload,
    features_by_code,
    privilege_of,
)


@dataclass
class MergedPrivilege:
    privilege: Privilege
    plan_value: str | None
    override_value: str | None

    @property
    def value(self) -> str | None:
        return self.override_value if self.override_value is not None else self.plan_value


@dataclass
class MergedEntitlement:
    feature: Feature
    privileges: list[MergedPrivilege] = field(default_factory=list)


def _catalog_plan_id(subscription: Subscription) -> int:
    return subscription.plan.parent_id or subscription.plan_id


def _values_by_privilege(entitlement) -> dict:
    return {v.privilege_id: v for v in entitlement.values.all()} if entitlement else {}


def subscription_entitlements(subscription: Subscription) -> list[MergedEntitlement]:
    """The subscription's entitlements as Lago computes them (see the module docstring)."""
    plan_rows = (
        PlanEntitlement.objects.filter(plan_id=_catalog_plan_id(subscription))
        .select_related("feature")
        .prefetch_related("values__privilege")
    )
    own_rows = (
        SubscriptionEntitlement.objects.filter(subscription=subscription)
        .select_related("feature")
        .prefetch_related("values__privilege")
    )
    removals = SubscriptionFeatureRemoval.objects.filter(subscription=subscription)
    removed_features = {r.feature_id for r in removals if r.feature_id}
    removed_privileges = {r.privilege_id for r in removals if r.privilege_id}
    plan_by_feature = {e.feature_id: e for e in plan_rows}
    own_by_feature = {e.feature_id: e for e in own_rows}
    merged = []
    for feature_id in plan_by_feature.keys() | own_by_feature.keys():
        plan_entitlement = plan_by_feature.get(feature_id)
        own = own_by_feature.get(feature_id)
        if plan_entitlement is not None and feature_id in removed_features:
            continue
        first = plan_entitlement or own
        plan_values = _values_by_privilege(plan_entitlement)
        own_values = _values_by_privilege(own)
        privileges = []
        for privilege_id in plan_values.keys() | own_values.keys():
            plan_value, own_value = plan_values.get(privilege_id), own_values.get(privilege_id)
            if plan_value is not None and privilege_id in removed_privileges:
                continue
            shown = plan_value or own_value
            privileges.append(
                (
                    (shown.created_at, shown.pk, plan_value is None),
                    MergedPrivilege(
                        privilege=shown.privilege,
                        plan_value=plan_value.value if plan_value else None,
                        override_value=own_value.value if own_value else None,
                    ),
                )
            )
        privileges.sort(key=lambda pair: pair[0])
        entry = MergedEntitlement(feature=first.feature, privileges=[p for _, p in privileges])
        merged.append(((first.created_at, own is first, first.pk), entry))
    merged.sort(key=lambda pair: pair[0])
    return [entry for _, entry in merged]


# --- writes ------------------------------------------------------------------------------------


def _same_as_plan(plan_entitlement: PlanEntitlement, values: dict) -> bool:
    plan_values = {v.privilege.code: v for v in plan_entitlement.values.all()}
    if sorted(plan_values) != sorted(values):
        return False
    return all(
        rules.same(v.privilege.value_type, v.value, values[code]) for code, v in plan_values.items()
    )


def _update_one(subscription, feature, plan_entitlement, own, values: dict) -> None:
    """Lago's SubscriptionEntitlementCoreUpdateService, partial (the API's PATCH)."""
    removals = SubscriptionFeatureRemoval.objects.filter(subscription=subscription)
    checked = {}
    for code, value in values.items():
        privilege = privilege_of(feature, str(code))
        checked[privilege.code] = (privilege, checked_value(privilege, value))
    if plan_entitlement is not None and _same_as_plan(plan_entitlement, values):
        # the plan's values again: drop the override and any removal
        if own is not None:
            own.delete()
        removals.filter(Q(feature=feature) | Q(privilege__feature=feature)).delete()
        return
    removals.filter(feature=feature).delete()
    if own is None:
        own = SubscriptionEntitlement.objects.create(subscription=subscription, feature=feature)
    plan_values = (
        {v.privilege_id: v for v in plan_entitlement.values.all()} if plan_entitlement else {}
    )
    for privilege, stored in checked.values():
        plan_value = plan_values.get(privilege.pk)
        removals.filter(privilege=privilege).delete()
        if plan_value is not None and rules.same(privilege.value_type, plan_value.value, stored):
            own.values.filter(privilege=privilege).delete()  # same as the plan: no override
            continue
        SubscriptionEntitlementValue.objects.update_or_create(
            entitlement=own, privilege=privilege, defaults={"value": stored}
        )


@transaction.atomic
def subscription_entitlements_update(*, subscription: Subscription, entitlements) -> None:
    """PATCH: for each feature sent, override the plan's values with the ones sent (a value
    equal to the plan's is no override); a feature not in the plan is added to the
    subscription; a removed feature or privilege sent again is restored. Features and
    privileges not sent are untouched."""
    subscription = lock_subscription(subscription.pk)
    entitlements = entitlements_payload(entitlements)
    features = features_by_code(entitlements.keys())
    plan_rows = {
        e.feature_id: e
        for e in PlanEntitlement.objects.filter(
            plan_id=_catalog_plan_id(subscription), feature__in=features.values()
        ).prefetch_related("values__privilege")
    }
    own_rows = {
        e.feature_id: e
        for e in SubscriptionEntitlement.objects.filter(
            subscription=subscription, feature__in=features.values()
        )
    }
    for code, values in entitlements.items():
        feature = features[code]
        _update_one(
            subscription, feature, plan_rows.get(feature.pk), own_rows.get(feature.pk), values
        )


def _feature(code: str) -> Feature:
    feature = Feature.objects.filter(code=code).prefetch_related("privileges").first()
    if feature is None:
        raise NotFound("feature")
    return feature


def _plan_grants(subscription: Subscription, feature: Feature) -> bool:
    return PlanEntitlement.objects.filter(
        plan_id=_catalog_plan_id(subscription), feature=feature
    ).exists()


@transaction.atomic
def subscription_feature_remove(*, subscription: Subscription, feature_code: str) -> None:
    """Take a feature away from the subscription: its override goes, and when the plan grants
    the feature a removal is recorded (Lago's SubscriptionFeatureRemoveService)."""
    subscription = lock_subscription(subscription.pk)
    feature = _feature(feature_code)
    SubscriptionEntitlement.objects.filter(subscription=subscription, feature=feature).delete()
    SubscriptionFeatureRemoval.objects.filter(
        subscription=subscription, privilege__feature=feature
    ).delete()
    if _plan_grants(subscription, feature):
        SubscriptionFeatureRemoval.objects.get_or_create(subscription=subscription, feature=feature)


@transaction.atomic
def subscription_privilege_remove(
    *, subscription: Subscription, feature_code: str, privilege_code: str
) -> None:
    """Take one privilege away: its override goes, and when the plan grants the feature a
    removal of the privilege is recorded (Lago's SubscriptionFeaturePrivilegeRemoveService)."""
    subscription = lock_subscription(subscription.pk)
    feature = _feature(feature_code)
    privilege = privilege_of(feature, privilege_code)
    SubscriptionEntitlementValue.objects.filter(
        entitlement__subscription=subscription, privilege=privilege
    ).delete()
    if _plan_grants(subscription, feature):
        SubscriptionFeatureRemoval.objects.get_or_create(
            subscription=subscription, privilege=privilege
        )
