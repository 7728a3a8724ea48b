"""REST API v1: one subscription's effective charges and its charge overrides (Lago 1.51):
/subscriptions/{external_id}/charges[/{charge_code}] and .../filters[/{filter_id}].
Parse, call one service (customers/charge_overrides.py), render."""

from drf_spectacular.utils import extend_schema_view

from core.api.viewsets import LagoViewSet
from customers.charge_overrides import (
    subscription_charge_filter_create,
    subscription_charge_filter_delete,
    subscription_charge_filter_update,
    subscription_charge_get,
    subscription_charge_override,
    subscription_fixed_charge_get,
    subscription_fixed_charge_units_set,
)
from customers.schemas import (
    SUBSCRIPTION_CHARGE_FILTER_VIEWS,
    SUBSCRIPTION_CHARGE_VIEWS,
    SUBSCRIPTION_FIXED_CHARGE_VIEWS,
)
from customers.selectors import subscription_fixed_charges, subscription_get
from plans.api import charge_json, fixed_charge_json
from plans.api_charges import charge_filter_full_json, charges_page
from plans.models import Charge, ChargeFilter, FixedCharge
from plans.selectors import charge_filter_get


class _SubscriptionScoped(LagoViewSet):
    def _subscription(self):
        """Lago: the subscription with `subscription_status` (or `status`), active by default."""
        params = self.request.query_params
        status = params.get("subscription_status") or params.get("status") or "active"
        return subscription_get(external_id=self.kwargs["external_id"], status=status)


@extend_schema_view(**SUBSCRIPTION_CHARGE_VIEWS)
class SubscriptionChargeViewSet(_SubscriptionScoped):
    lago_root, lago_plural = "charge", "charges"
    lookup_field = "charge_code"
    queryset = Charge.objects.none()

    def list(self, request, external_id=None):
        return self.render_page(charges_page(self._subscription().plan.charges), charge_json)

    def retrieve(self, request, external_id=None, charge_code=None):
        charge = subscription_charge_get(subscription=self._subscription(), code=charge_code)
        return self.render_one(charge_json(charge))

    def update(self, request, external_id=None, charge_code=None):
        charge = subscription_charge_override(
            subscription=self._subscription(), code=charge_code, data=self.root_payload(request)
        )
        fresh = charges_page(Charge.objects.filter(pk=charge.pk)).get()
        return self.render_one(charge_json(fresh))


@extend_schema_view(**SUBSCRIPTION_CHARGE_FILTER_VIEWS)
class SubscriptionChargeFilterViewSet(_SubscriptionScoped):
    lago_root, lago_plural = "filter", "filters"
    lookup_field = "filter_id"
    queryset = ChargeFilter.objects.none()

    def _charge(self) -> Charge:
        code = self.kwargs["charge_code"]
        return subscription_charge_get(subscription=self._subscription(), code=code)

    def create(self, request, external_id=None, charge_code=None):
        row = subscription_charge_filter_create(
            subscription=self._subscription(), code=charge_code, data=self.root_payload(request)
        )
        return self.render_one(charge_filter_full_json(row))

    def list(self, request, external_id=None, charge_code=None):
        rows = self._charge().filters.live().select_related("charge").order_by("created_at", "id")
        return self.render_page(rows, charge_filter_full_json)

    def retrieve(self, request, external_id=None, charge_code=None, filter_id=None):
        row = charge_filter_get(charge=self._charge(), filter_id=filter_id)
        return self.render_one(charge_filter_full_json(row))

    def update(self, request, external_id=None, charge_code=None, filter_id=None):
        row = subscription_charge_filter_update(
            subscription=self._subscription(),
            code=charge_code,
            filter_id=filter_id,
            data=self.root_payload(request),
        )
        return self.render_one(charge_filter_full_json(row))

    def destroy(self, request, external_id=None, charge_code=None, filter_id=None):
        row = subscription_charge_filter_delete(
            subscription=self._subscription(), code=charge_code, filter_id=filter_id
        )
        return self.render_one(charge_filter_full_json(row))


@extend_schema_view(**SUBSCRIPTION_FIXED_CHARGE_VIEWS)
class SubscriptionFixedChargeViewSet(_SubscriptionScoped):
    lago_root, lago_plural = "fixed_charge", "fixed_charges"
    lookup_field = "fixed_charge_code"
    queryset = FixedCharge.objects.none()

    def list(self, request, external_id=None):
        subscription = self._subscription()
        units = {row.pk: value for row, value in subscription_fixed_charges(subscription)}
        rows = (
            subscription.plan.fixed_charges.live()
            .select_related("add_on", "parent")
            .order_by("-created_at", "-id")
        )
        return self.render_page(rows, lambda row: fixed_charge_json(row, units[row.pk]))

    def retrieve(self, request, external_id=None, fixed_charge_code=None):
        row, units = subscription_fixed_charge_get(
            subscription=self._subscription(), code=fixed_charge_code
        )
        return self.render_one(fixed_charge_json(row, units))

    def update(self, request, external_id=None, fixed_charge_code=None):
        row, units = subscription_fixed_charge_units_set(
            subscription=self._subscription(),
            code=fixed_charge_code,
            data=self.root_payload(request),
        )
        return self.render_one(fixed_charge_json(row, units))
