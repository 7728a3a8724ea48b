"""REST API v1 for features (/features) and the entitlements of a plan
(/plans/{code}/entitlements…, mixed into plans.api.PlanViewSet), Lago's wire format."""

from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from core.api.viewsets import LagoViewSet
from plans.models import Feature
from plans.schemas import FEATURE_VIEWS
from plans.selectors import (
    feature_get,
    features_search,
    plan_entitlement_get,
    plan_entitlements,
    plan_get,
)
from plans.serializers import feature_json, plan_entitlement_json
from plans.services.entitlements import (
    plan_entitlement_delete,
    plan_entitlement_privilege_delete,
    plan_entitlements_update,
)
from plans.services.features import (
    feature_create,
    feature_delete,
    feature_update,
    privilege_delete,
)


def entitlements_body(request):
    """Lago reads `params.fetch(:entitlements, {})`: absent is {}, a non-object body a 400."""
    if not isinstance(request.data, dict):
        raise ParseError("param is missing or the value is empty: entitlements")
    return request.data.get("entitlements")


@extend_schema_view(**FEATURE_VIEWS)
class FeatureViewSet(LagoViewSet):
    lago_root, lago_plural = "feature", "features"
    lookup_field = "code"

    def get_queryset(self):
        return Feature.objects.prefetch_related("privileges").order_by("-created_at", "id")

    def create(self, request):
        return self.render_one(feature_json(feature_create(data=self.root_payload(request))))

    def list(self, request):
        rows = features_search(self.get_queryset(), request.query_params.get("search_term"))
        return self.render_page(rows, feature_json)

    def retrieve(self, request, code=None):
        return self.render_one(feature_json(feature_get(code=code)))

    def update(self, request, code=None):
        feature = feature_update(feature=feature_get(code=code), data=self.root_payload(request))
        return self.render_one(feature_json(feature_get(code=feature.code)))

    def destroy(self, request, code=None):
        return self.render_one(feature_delete(feature=feature_get(code=code)))

    @action(detail=True, methods=["delete"], url_path=r"privileges/(?P<privilege_code>[^/]+)")
    def privilege(self, request, code=None, privilege_code=None):
        """Delete a privilege: it leaves every plan and subscription too."""
        feature = privilege_delete(feature=feature_get(code=code), code=privilege_code)
        return self.render_one(feature_json(feature_get(code=feature.code)))


def _entitlements(items) -> Response:
    return Response({"entitlements": [plan_entitlement_json(e) for e in items]})


class PlanEntitlementActions:
    """Mixed into plans.api.PlanViewSet (lookup: code)."""

    @action(detail=True, methods=["get", "post", "patch"], url_path="entitlements")
    def entitlements(self, request, code=None):
        """List (GET), replace (POST) or merge into (PATCH) a plan's entitlements."""
        plan = plan_get(code=code)
        if request.method == "GET":
            return _entitlements(plan_entitlements(plan))
        updated = plan_entitlements_update(
            plan=plan, entitlements=entitlements_body(request), partial=request.method == "PATCH"
        )
        return _entitlements(updated)

    @action(
        detail=True, methods=["get", "delete"], url_path=r"entitlements/(?P<feature_code>[^/]+)"
    )
    def entitlement(self, request, code=None, feature_code=None):
        """Retrieve, or remove from the plan, one feature's entitlement."""
        entitlement = plan_entitlement_get(plan=plan_get(code=code), feature_code=feature_code)
        rendered = {"entitlement": plan_entitlement_json(entitlement)}
        if request.method == "DELETE":
            plan_entitlement_delete(entitlement=entitlement)
        return Response(rendered)

    @action(
        detail=True,
        methods=["delete"],
        url_path=r"entitlements/(?P<feature_code>[^/]+)/privileges/(?P<privilege_code>[^/]+)",
    )
    def entitlement_privilege(self, request, code=None, feature_code=None, privilege_code=None):
        """Remove one privilege's value from a plan's entitlement."""
        entitlement = plan_entitlement_get(plan=plan_get(code=code), feature_code=feature_code)
        entitlement = plan_entitlement_privilege_delete(
            entitlement=entitlement, privilege_code=privilege_code
        )
        return Response({"entitlement": plan_entitlement_json(entitlement)})
