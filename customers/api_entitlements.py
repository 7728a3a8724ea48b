"""/subscriptions/{external_id}/entitlements…: the plan's entitlements merged with the
subscription's overrides (mixed into customers.api.SubscriptionViewSet). Every answer is the
subscription's whole list, as Lago's controllers render it."""

from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from customers.entitlements import (
    subscription_entitlements,
    subscription_entitlements_update,
    subscription_feature_remove,
    subscription_privilege_remove,
)
from customers.selectors import subscription_get
from customers.serializers import subscription_entitlement_json


def _subscription(request, external_id):
    """Lago looks up the subscription with ?subscription_status (or ?status), active by
    default."""
    params = request.query_params
    status = params.get("subscription_status") or params.get("status") or "active"
    return subscription_get(external_id=external_id, status=status)


def _listed(subscription) -> Response:
    items = subscription_entitlements(subscription)
    return Response({"entitlements": [subscription_entitlement_json(e) for e in items]})


class SubscriptionEntitlementActions:
    """Mixed into customers.api.SubscriptionViewSet (lookup: external_id)."""

    @action(detail=True, methods=["get", "patch"], url_path="entitlements")
    def entitlements(self, request, external_id=None):
        """List (GET) or override (PATCH) a subscription's entitlements."""
        subscription = _subscription(request, external_id)
        if request.method == "PATCH":
            if not isinstance(request.data, dict):
                raise ParseError("param is missing or the value is empty: entitlements")
            subscription_entitlements_update(
                subscription=subscription, entitlements=request.data.get("entitlements")
            )
        return _listed(subscription)

    @action(detail=True, methods=["delete"], url_path=r"entitlements/(?P<feature_code>[^/]+)")
    def entitlement(self, request, external_id=None, feature_code=None):
        """Remove a feature from a subscription."""
        subscription = _subscription(request, external_id)
        subscription_feature_remove(subscription=subscription, feature_code=feature_code)
        return _listed(subscription)

    @action(
        detail=True,
        methods=["delete"],
        url_path=r"entitlements/(?P<feature_code>[^/]+)/privileges/(?P<privilege_code>[^/]+)",
    )
    def entitlement_privilege(
        self, request, external_id=None, feature_code=None, privilege_code=None
    ):
        """Remove one privilege from a subscription's entitlement."""
        subscription = _subscription(request, external_id)
        subscription_privilege_remove(
            subscription=subscription, feature_code=feature_code, privilege_code=privilege_code
        )
        return _listed(subscription)
