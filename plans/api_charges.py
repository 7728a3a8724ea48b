"""REST API v1: a plan's charges and their filters as resources of their own (Lago 1.51):
/plans/{code}/charges[/{charge_code}] and /plans/{code}/charges/{charge_code}/filters[/{id}].
Parse, call one service (plans/services/charges.py), render."""

from drf_spectacular.utils import extend_schema_view

from core.api.viewsets import LagoViewSet
from plans.api import charge_filter_json, charge_json, fixed_charge_json
from plans.models import Charge, ChargeFilter, FixedCharge
from plans.schemas import CHARGE_FILTER_VIEWS, CHARGE_VIEWS, FIXED_CHARGE_VIEWS
from plans.selectors import charge_filter_get, plan_charge_get, plan_fixed_charge_get, plan_get
from plans.services.charges import (
    charge_create,
    charge_delete,
    charge_filter_create,
    charge_filter_delete,
    charge_filter_update,
    charge_update,
)
from plans.services.fixed_charges import (
    fixed_charge_create,
    fixed_charge_delete,
    fixed_charge_update,
)


def charge_filter_full_json(charge_filter: ChargeFilter) -> dict:
    """Lago's ChargeFilterFullObject: the filter with its charge's code."""
    return {**charge_filter_json(charge_filter), "charge_code": charge_filter.charge.code}


def cascade_flag(request, root: str) -> bool:
    """Lago's `cascade_updates` inside the root object (create, update, and delete's body)."""
    data = request.data if isinstance(request.data, dict) else {}
    payload = data.get(root) if isinstance(data.get(root), dict) else {}
    return payload.get("cascade_updates") in (True, "true", "1", 1)


def charges_page(queryset):
    """Lago lists charges newest first."""
    return (
        queryset.live()
        .select_related("billable_metric", "parent", "plan")
        .prefetch_related("filters")
        .order_by("-created_at", "-id")
    )


@extend_schema_view(**CHARGE_VIEWS)
class PlanChargeViewSet(LagoViewSet):
    lago_root, lago_plural = "charge", "charges"
    lookup_field = "charge_code"
    queryset = Charge.objects.none()

    def _plan(self):
        return plan_get(code=self.kwargs["plan_code"])

    def _rendered(self, charge: Charge):
        fresh = charges_page(Charge.objects.filter(pk=charge.pk)).first() or charge
        return self.render_one(charge_json(fresh))

    def create(self, request, plan_code=None):
        payload = self.root_payload(request)
        charge = charge_create(
            plan=self._plan(), data=payload, cascade=cascade_flag(request, "charge")
        )
        return self._rendered(charge)

    def list(self, request, plan_code=None):
        return self.render_page(charges_page(self._plan().charges), charge_json)

    def retrieve(self, request, plan_code=None, charge_code=None):
        return self.render_one(charge_json(plan_charge_get(plan=self._plan(), code=charge_code)))

    def update(self, request, plan_code=None, charge_code=None):
        charge = plan_charge_get(plan=self._plan(), code=charge_code)
        payload = self.root_payload(request)
        charge = charge_update(charge=charge, data=payload, cascade=cascade_flag(request, "charge"))
        return self._rendered(charge)

    def destroy(self, request, plan_code=None, charge_code=None):
        charge = plan_charge_get(plan=self._plan(), code=charge_code)
        charge = charge_delete(charge=charge, cascade=cascade_flag(request, "charge"))
        return self.render_one(charge_json(charge))


@extend_schema_view(**CHARGE_FILTER_VIEWS)
class PlanChargeFilterViewSet(LagoViewSet):
    lago_root, lago_plural = "filter", "filters"
    lookup_field = "filter_id"
    queryset = ChargeFilter.objects.none()

    def _charge(self) -> Charge:
        plan = plan_get(code=self.kwargs["plan_code"])
        return plan_charge_get(plan=plan, code=self.kwargs["charge_code"])

    def create(self, request, plan_code=None, charge_code=None):
        payload = self.root_payload(request)
        row = charge_filter_create(
            charge=self._charge(), data=payload, cascade=cascade_flag(request, "filter")
        )
        return self.render_one(charge_filter_full_json(row))

    def list(self, request, plan_code=None, charge_code=None):
        rows = self._charge().filters.live().select_related("charge").order_by("created_at", "id")
        return self.render_page(rows, charge_filter_full_json)

    def retrieve(self, request, plan_code=None, charge_code=None, filter_id=None):
        row = charge_filter_get(charge=self._charge(), filter_id=filter_id)
        return self.render_one(charge_filter_full_json(row))

    def update(self, request, plan_code=None, charge_code=None, filter_id=None):
        row = charge_filter_get(charge=self._charge(), filter_id=filter_id)
        payload = self.root_payload(request)
        row = charge_filter_update(
            charge_filter=row, data=payload, cascade=cascade_flag(request, "filter")
        )
        return self.render_one(charge_filter_full_json(row))

    def destroy(self, request, plan_code=None, charge_code=None, filter_id=None):
        row = charge_filter_get(charge=self._charge(), filter_id=filter_id)
        row = charge_filter_delete(charge_filter=row, cascade=cascade_flag(request, "filter"))
        return self.render_one(charge_filter_full_json(row))


@extend_schema_view(**FIXED_CHARGE_VIEWS)
class PlanFixedChargeViewSet(LagoViewSet):
    lago_root, lago_plural = "fixed_charge", "fixed_charges"
    lookup_field = "fixed_charge_code"
    queryset = FixedCharge.objects.none()

    def _plan(self):
        return plan_get(code=self.kwargs["plan_code"])

    def _one(self, code: str) -> FixedCharge:
        return plan_fixed_charge_get(plan=self._plan(), code=code)

    def create(self, request, plan_code=None):
        row = fixed_charge_create(
            plan=self._plan(),
            data=self.root_payload(request),
            cascade=cascade_flag(request, "fixed_charge"),
        )
        return self.render_one(fixed_charge_json(row))

    def list(self, request, plan_code=None):
        rows = (
            self._plan()
            .fixed_charges.live()
            .select_related("add_on", "parent")
            .order_by("-created_at", "-id")
        )
        return self.render_page(rows, fixed_charge_json)

    def retrieve(self, request, plan_code=None, fixed_charge_code=None):
        return self.render_one(fixed_charge_json(self._one(fixed_charge_code)))

    def update(self, request, plan_code=None, fixed_charge_code=None):
        row = fixed_charge_update(
            fixed_charge=self._one(fixed_charge_code),
            data=self.root_payload(request),
            cascade=cascade_flag(request, "fixed_charge"),
        )
        return self.render_one(fixed_charge_json(row))

    def destroy(self, request, plan_code=None, fixed_charge_code=None):
        row = fixed_charge_delete(
            fixed_charge=self._one(fixed_charge_code),
            cascade=cascade_flag(request, "fixed_charge"),
        )
        return self.render_one(fixed_charge_json(row))
