"""REST API v1 for billable metrics and plans (Lago wire format)."""

from decimal import Decimal

import orjson
from djmoney.money import Money
from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action

from core.api.formats import decimal_str, iso
from core.api.viewsets import LagoViewSet
from core.errors import ValidationFailed
from core.validation import check_currency, parse_decimal
from plans.api_features import PlanEntitlementActions
from plans.models import BillableMetric, Charge, ChargeFilter, ChargePrice, FixedCharge, Plan
from plans.schemas import BILLABLE_METRIC_VIEWS, PLAN_VIEWS
from plans.selectors import metric_get, plan_get
from plans.serializers import plan_entitlement_json
from plans.services import (
    billable_metric_create,
    billable_metric_delete,
    billable_metric_expression_evaluate,
    billable_metric_update,
    plan_create,
    plan_delete,
    plan_metadata_delete_key,
    plan_metadata_set,
    plan_update,
)

# --- rendering -------------------------------------------------------------------------------


def metric_json(metric: BillableMetric) -> dict:
    return {
        "lago_id": str(metric.lago_id),
        "name": metric.name,
        "code": metric.code,
        "description": metric.description or None,
        "aggregation_type": metric.aggregation_type,
        "field_name": metric.field_name or None,
        "recurring": metric.recurring,
        "weighted_interval": metric.weighted_interval or None,
        "rounding_function": metric.rounding_function or None,
        "rounding_precision": metric.rounding_precision,
        "expression": metric.expression or None,
        "filters": [{"key": f.key, "values": f.values} for f in metric.filters.all()],
        "unit_cost": decimal_str(metric.unit_cost.amount) if metric.unit_cost else None,
        "unit_cost_currency": str(metric.unit_cost.currency) if metric.unit_cost else None,
        "created_at": iso(metric.created_at),
    }


def charge_filter_json(charge_filter: ChargeFilter) -> dict:
    return {
        "lago_id": str(charge_filter.lago_id),
        "invoice_display_name": charge_filter.invoice_display_name or None,
        "properties": charge_filter.properties,
        "values": charge_filter.values,
        "created_at": iso(charge_filter.created_at),
    }


def charge_json(charge: Charge) -> dict:
    return {
        "lago_id": str(charge.lago_id),
        "lago_billable_metric_id": str(charge.billable_metric.lago_id),
        "billable_metric_code": charge.billable_metric.code,
        "code": charge.code,
        "created_at": iso(charge.created_at),
        "charge_model": charge.charge_model,
        "pay_in_advance": charge.pay_in_advance,
        "invoiceable": charge.invoiceable,
        "prorated": charge.prorated,
        "min_amount_cents": charge.min_amount_cents,
        "invoice_display_name": charge.invoice_display_name or None,
        "regroup_paid_fees": None,  # Lago's option for paid in-advance fees, not supported
        "properties": charge.properties,
        "filters": [charge_filter_json(f) for f in charge.filters.all() if f.deleted_at is None],
        "tax_codes": charge.tax_codes,
        "taxes": [],
        "lago_parent_id": str(charge.parent.lago_id) if charge.parent_id else None,
    }


def fixed_charge_json(row: FixedCharge, units: Decimal | None = None) -> dict:
    """Lago's FixedChargeObject; `units` a subscription's own (its override) when given."""
    return {
        "lago_id": str(row.lago_id),
        "lago_add_on_id": str(row.add_on.lago_id),
        "add_on_code": row.add_on.code,
        "code": row.code,
        "invoice_display_name": row.invoice_display_name
        or row.add_on.invoice_display_name
        or row.add_on.name,
        "created_at": iso(row.created_at),
        "charge_model": row.charge_model,
        "pay_in_advance": row.pay_in_advance,
        "prorated": row.prorated,
        "properties": row.properties,
        # a JSON number with the exact digits (a float would round a long decimal)
        "units": orjson.Fragment(decimal_str(row.units if units is None else units).encode()),
        "lago_parent_id": str(row.parent.lago_id) if row.parent_id else None,
        "tax_codes": row.tax_codes,
        "taxes": [],
    }


def plan_json(plan: Plan) -> dict:
    commitment = getattr(plan, "minimum_commitment", None)
    return {
        "lago_id": str(plan.lago_id),
        "name": plan.name,
        "invoice_display_name": plan.invoice_display_name or None,
        "code": plan.code,
        "interval": plan.interval,
        "description": plan.description or None,
        "amount_cents": plan.amount_cents,
        "amount_currency": plan.amount_currency,
        "trial_period": float(plan.trial_period),
        "pay_in_advance": plan.pay_in_advance,
        "bill_charges_monthly": plan.bill_charges_monthly,
        "created_at": iso(plan.created_at),
        "pending_deletion": plan.pending_deletion,
        "active_subscriptions_count": plan.subscriptions.filter(status="active").count(),
        "charges": [charge_json(c) for c in plan.charges.all() if c.deleted_at is None],
        "fixed_charges": [
            fixed_charge_json(f) for f in plan.fixed_charges.live().select_related("add_on")
        ],
        "minimum_commitment": commitment
        and {
            "lago_id": str(commitment.lago_id),
            "plan_code": plan.code,
            "amount_cents": commitment.amount_cents,
            "invoice_display_name": commitment.invoice_display_name or None,
            "interval": plan.interval,
            "created_at": iso(commitment.created_at),
            "updated_at": iso(commitment.updated_at),
            "taxes": [],
        },
        "usage_thresholds": [
            {
                "lago_id": str(t.lago_id),
                "threshold_display_name": t.threshold_display_name or None,
                "amount_cents": t.amount_cents,
                "recurring": t.recurring,
                "created_at": iso(t.created_at),
                "updated_at": iso(t.updated_at),
            }
            for t in plan.usage_thresholds.all()
        ],
        "tax_codes": plan.tax_codes,
        "taxes": [],
        "metadata": plan.metadata,
        "entitlements": [plan_entitlement_json(e) for e in plan.entitlements.all()],
        "prices": [
            {
                "currency": price.currency,
                "amount_cents": price.amount_cents,
                "charges": [
                    {"charge_code": cp.charge.code, "properties": cp.properties}
                    for cp in ChargePrice.objects.filter(
                        charge__plan=plan, currency=price.currency
                    ).select_related("charge")
                ],
            }
            for price in plan.prices.all()
        ],
    }


# --- parsing ---------------------------------------------------------------------------------


def _unit_cost(data: dict) -> dict:
    """Our extension: `unit_cost` (decimal string, major units) + `unit_cost_currency`."""
    if data.get("unit_cost") is None:
        return data
    amount = parse_decimal(data["unit_cost"])
    currency = data.get("unit_cost_currency") or "USD"
    if amount is None or amount < 0:
        raise ValidationFailed({"unit_cost": ["value_is_invalid"]})
    if not isinstance(currency, str) or check_currency(currency.upper()):
        raise ValidationFailed({"unit_cost_currency": ["value_is_invalid"]})
    return {**data, "unit_cost": Money(Decimal(amount), currency.upper())}


@extend_schema_view(**BILLABLE_METRIC_VIEWS)
class BillableMetricViewSet(LagoViewSet):
    lago_root, lago_plural = "billable_metric", "billable_metrics"
    lookup_field = "code"

    def get_queryset(self):
        return BillableMetric.objects.live().prefetch_related("filters").order_by("-created_at")

    def create(self, request):
        data = _unit_cost(self.root_payload(request))
        return self.render_one(metric_json(billable_metric_create(data=data)))

    def list(self, request):
        return self.render_page(self.get_queryset(), metric_json)

    def retrieve(self, request, code=None):
        return self.render_one(metric_json(metric_get(code=code)))

    def update(self, request, code=None):
        data = _unit_cost(self.root_payload(request))
        metric = billable_metric_update(metric=metric_get(code=code), data=data)
        return self.render_one(metric_json(metric))

    def destroy(self, request, code=None):
        return self.render_one(metric_json(billable_metric_delete(metric=metric_get(code=code))))

    @action(detail=False, methods=["post"], url_path="evaluate_expression")
    def evaluate_expression(self, request):
        """Lago: the value of `expression` on a sample `event` (nothing saved)."""
        data = request.data if isinstance(request.data, dict) else {}
        value = billable_metric_expression_evaluate(
            expression=data.get("expression"), event=data.get("event")
        )
        return self.render_one({"value": value}, root="expression_result")


@extend_schema_view(**PLAN_VIEWS)
class PlanViewSet(PlanEntitlementActions, LagoViewSet):
    lago_root, lago_plural = "plan", "plans"
    lookup_field = "code"

    def get_queryset(self):
        return (
            Plan.objects.live()
            .filter(parent__isnull=True)
            .select_related("minimum_commitment")
            .prefetch_related(
                "charges__billable_metric",
                "charges__filters",
                "usage_thresholds",
                "entitlements__feature",
                "entitlements__values__privilege",
            )
            .order_by("-created_at")
        )

    def _render(self, plan: Plan):
        return self.render_one(plan_json(plan_get(code=plan.code, include_deleted=True)))

    def create(self, request):
        return self._render(plan_create(data=self.root_payload(request)))

    def list(self, request):
        return self.render_page(self.get_queryset(), plan_json)

    def retrieve(self, request, code=None):
        return self.render_one(plan_json(plan_get(code=code)))

    def update(self, request, code=None):
        plan = plan_update(plan=plan_get(code=code), data=self.root_payload(request))
        return self._render(plan)

    def destroy(self, request, code=None):
        """Lago: answers at once with the plan `pending_deletion: true`; a job does the rest."""
        plan = plan_delete(plan=plan_get(code=code))
        return self.render_one(plan_json(plan_get(code=plan.code, include_deleted=True)))

    @action(detail=True, methods=["get", "post", "patch", "delete"], url_path="metadata")
    def metadata(self, request, code=None):
        """Replace (POST), merge (PATCH), read (GET) or clear (DELETE) a plan's metadata."""
        plan = plan_get(code=code)
        payload = request.data.get("metadata") if isinstance(request.data, dict) else None
        if request.method in ("POST", "PATCH") and not isinstance(payload, dict):
            raise ValidationFailed({"metadata": ["invalid_format"]})
        if request.method != "GET":
            plan = plan_metadata_set(plan=plan, metadata=payload, merge=request.method == "PATCH")
        return self.render_one(plan.metadata, root="metadata")

    @action(detail=True, methods=["delete"], url_path=r"metadata/(?P<key>[^/]+)")
    def metadata_key(self, request, code=None, key=None):
        """Remove one key of a plan's metadata; answers what is left."""
        plan = plan_metadata_delete_key(plan=plan_get(code=code), key=key)
        return self.render_one(plan.metadata, root="metadata")
