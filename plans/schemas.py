"""OpenAPI declarations of the catalog endpoints: billable metrics, plans, add-ons, coupons and
applied coupons (documentation only; see core/api/schema.py)."""

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.api.schema import (
    PAGE,
    Bool,
    Choice,
    DateTime,
    Dict,
    Int,
    Json,
    List,
    Str,
    codes,
    crud_ops,
    decimal_string,
    op,
    paginated,
    query,
    wrapped,
)
from plans.models import (
    AggregationType,
    ChargeModel,
    CouponExpiration,
    CouponFrequency,
    CouponType,
    Interval,
    RoundingFunction,
)

# --- billable metrics ------------------------------------------------------------------------


class MetricFilter(serializers.Serializer):
    key = Str()
    values = codes()


class BillableMetricInput(serializers.Serializer):
    name = Str()
    code = Str()
    description = Str(required=False, allow_null=True)
    aggregation_type = Choice(AggregationType.values)
    field_name = Str(required=False, allow_null=True)
    expression = Str(
        required=False,
        allow_null=True,
        help_text="Computed per event at ingestion into properties[field_name], e.g. "
        "round(event.properties.seconds / 3600)",
    )
    recurring = Bool(required=False)
    weighted_interval = Choice(["seconds"], required=False, allow_null=True)
    rounding_function = Choice(RoundingFunction.values, required=False, allow_null=True)
    rounding_precision = Int(required=False, allow_null=True)
    filters = MetricFilter(many=True, required=False)
    unit_cost = decimal_string(required=False, allow_null=True)
    unit_cost_currency = Str(required=False, allow_null=True)


class BillableMetric(BillableMetricInput):
    lago_id = Str()
    created_at = DateTime()


# --- plans -----------------------------------------------------------------------------------


class ChargeFilterInput(serializers.Serializer):
    invoice_display_name = Str(required=False, allow_null=True)
    properties = Dict(help_text="Charge-model properties for events matching the values")
    values = Dict(child=codes(), help_text="{filter key: [values]}")


class ChargeInput(serializers.Serializer):
    id = Str(required=False, help_text="lago_id of an existing charge (update)")
    billable_metric_id = Str(help_text="The metric's lago_id")
    code = Str(required=False)
    charge_model = Choice(ChargeModel.values)
    pay_in_advance = Bool(required=False)
    invoiceable = Bool(required=False)
    prorated = Bool(required=False)
    min_amount_cents = Int(required=False)
    invoice_display_name = Str(required=False, allow_null=True)
    properties = Json(required=False, help_text="Per charge model (amount, graduated_ranges…)")
    filters = ChargeFilterInput(many=True, required=False)
    tax_codes = codes(required=False)


class CommitmentInput(serializers.Serializer):
    amount_cents = Int()
    invoice_display_name = Str(required=False, allow_null=True)
    tax_codes = codes(required=False)


class ThresholdInput(serializers.Serializer):
    amount_cents = Int()
    threshold_display_name = Str(required=False, allow_null=True)
    recurring = Bool(required=False)


class PriceInput(serializers.Serializer):
    currency = Str()
    amount_cents = Int()
    charges = List(child=Dict(), required=False, help_text="[{charge_code, properties}]")


class FixedChargeInput(serializers.Serializer):
    add_on_id = Str(required=False)
    add_on_code = Str(required=False)
    code = Str(required=False)
    # a plain string: a second `charge_model` enum would rename the charges' ChargeModelEnum
    charge_model = Str(help_text="standard, graduated or volume")
    pay_in_advance = Bool(required=False, help_text="Only false here (billed in arrears)")
    prorated = Bool(required=False)
    invoice_display_name = Str(required=False, allow_null=True)
    units = decimal_string(required=False)
    properties = Json(required=False)
    tax_codes = codes(required=False)
    cascade_updates = Bool(required=False)


class PlanInput(serializers.Serializer):
    name = Str()
    code = Str()
    interval = Choice(Interval.values)
    amount_cents = Int()
    amount_currency = Str(help_text="ISO 4217")
    description = Str(required=False, allow_null=True)
    invoice_display_name = Str(required=False, allow_null=True)
    pay_in_advance = Bool(required=False)
    trial_period = serializers.FloatField(required=False)
    bill_charges_monthly = Bool(required=False, allow_null=True)
    tax_codes = codes(required=False)
    metadata = Dict(required=False)
    charges = ChargeInput(many=True, required=False)
    minimum_commitment = CommitmentInput(required=False, allow_null=True)
    usage_thresholds = ThresholdInput(many=True, required=False)
    fixed_charges = FixedChargeInput(many=True, required=False)
    prices = PriceInput(many=True, required=False)


class Plan(PlanInput):
    lago_id = Str()
    created_at = DateTime()
    active_subscriptions_count = Int()


class ChargeCreateInput(ChargeInput):
    cascade_updates = Bool(required=False, help_text="Also in the plan's overrides")


class Charge(ChargeInput):
    lago_id = Str()
    lago_billable_metric_id = Str()
    billable_metric_code = Str()
    lago_parent_id = Str(allow_null=True)
    created_at = DateTime()


class ChargeFilterCreateInput(ChargeFilterInput):
    cascade_updates = Bool(required=False, help_text="Also in the plan's overrides")


class ChargeFilter(ChargeFilterInput):
    lago_id = Str()
    charge_code = Str()
    created_at = DateTime()


class FixedCharge(FixedChargeInput):
    lago_id = Str()
    lago_add_on_id = Str()
    lago_parent_id = Str(allow_null=True)
    created_at = DateTime()


METADATA_BODY = inline_serializer(name="PlanMetadataInput", fields={"metadata": Dict()})
METADATA_ONE = inline_serializer(name="PlanMetadataEnvelope", fields={"metadata": Dict()})

# --- add-ons and coupons ---------------------------------------------------------------------


class AddOnInput(serializers.Serializer):
    name = Str()
    code = Str()
    amount_cents = Int()
    amount_currency = Str()
    invoice_display_name = Str(required=False, allow_null=True)
    description = Str(required=False, allow_null=True)
    tax_codes = codes(required=False)


class AddOn(AddOnInput):
    lago_id = Str()
    created_at = DateTime()


class CouponLimits(serializers.Serializer):
    plan_codes = codes(required=False)
    billable_metric_codes = codes(required=False)


class CouponInput(serializers.Serializer):
    name = Str()
    code = Str()
    description = Str(required=False, allow_null=True)
    coupon_type = Choice(CouponType.values)
    amount_cents = Int(required=False, allow_null=True)
    amount_currency = Str(required=False, allow_null=True)
    percentage_rate = decimal_string(required=False, allow_null=True)
    frequency = Choice(CouponFrequency.values)
    frequency_duration = Int(required=False, allow_null=True)
    reusable = Bool(required=False)
    expiration = Choice(CouponExpiration.values)
    expiration_at = DateTime(required=False, allow_null=True)
    applies_to = CouponLimits(required=False)


class Coupon(CouponInput):
    lago_id = Str()
    created_at = DateTime()
    terminated_at = DateTime(allow_null=True)


class AppliedCouponInput(serializers.Serializer):
    external_customer_id = Str()
    coupon_code = Str()
    amount_cents = Int(required=False, allow_null=True)
    amount_currency = Str(required=False, allow_null=True)
    percentage_rate = decimal_string(required=False, allow_null=True)
    frequency = Choice(CouponFrequency.values, required=False)
    frequency_duration = Int(required=False, allow_null=True)


class AppliedCoupon(serializers.Serializer):
    lago_id = Str()
    lago_coupon_id = Str()
    coupon_code = Str()
    external_customer_id = Str()
    status = Choice(["active", "terminated"])
    amount_cents = Int(allow_null=True)
    amount_cents_remaining = Int(allow_null=True)
    frequency = Str()
    created_at = DateTime()
    terminated_at = DateTime(allow_null=True)


# --- the operations, per viewset ---------------------------------------------------------------


class ExpressionEvent(serializers.Serializer):
    code = Str()
    timestamp = Str(required=False, help_text="Unix seconds or ISO 8601; default now")
    properties = Dict(required=False)


class EvaluateExpressionInput(serializers.Serializer):
    expression = Str(help_text="e.g. round(event.properties.seconds / 3600)")
    event = ExpressionEvent()


class ExpressionResult(serializers.Serializer):
    value = Str(help_text='Lago renders a number as text: "2.0"')


# --- features and plan entitlements ------------------------------------------------------------


class PrivilegeConfig(serializers.Serializer):
    select_options = List(child=Str(), required=False)


class PrivilegeInput(serializers.Serializer):
    code = Str()
    name = Str(required=False, allow_null=True)
    value_type = Choice(["integer", "boolean", "string", "select"], required=False)
    config = PrivilegeConfig(required=False)


class FeatureInput(serializers.Serializer):
    code = Str(help_text="required on create; fixed afterwards")
    name = Str(required=False, allow_null=True)
    description = Str(required=False, allow_null=True)
    privileges = PrivilegeInput(many=True, required=False)


class FeaturePrivilege(serializers.Serializer):
    code = Str()
    name = Str(allow_null=True)
    value_type = Choice(["integer", "boolean", "string", "select"])
    config = PrivilegeConfig()


class Feature(serializers.Serializer):
    code = Str()
    name = Str(allow_null=True)
    description = Str(allow_null=True)
    privileges = FeaturePrivilege(many=True)
    created_at = DateTime()


class PlanEntitlementPrivilege(FeaturePrivilege):
    value = Json(help_text="integer, boolean or string, after the privilege's value type")


class PlanEntitlement(serializers.Serializer):
    code = Str()
    name = Str(allow_null=True)
    description = Str(allow_null=True)
    privileges = PlanEntitlementPrivilege(many=True)


ENTITLEMENTS_BODY = inline_serializer(
    name="EntitlementUpdateInput",
    fields={
        "entitlements": Dict(child=Dict(), help_text="{feature_code: {privilege_code: value}}")
    },
)
PLAN_ENTITLEMENTS = inline_serializer(
    name="PlanEntitlements", fields={"entitlements": PlanEntitlement(many=True)}
)
PLAN_ENTITLEMENT = inline_serializer(
    name="PlanEntitlementEnvelope", fields={"entitlement": PlanEntitlement()}
)
FEATURE_ONE = wrapped("FeatureEnvelope", "feature", Feature())

FEATURE_BODY = wrapped("FeatureInputEnvelope", "feature", FeatureInput())
FEATURE_VIEWS = {  # Lago's operation ids
    "create": op("Create a feature", FEATURE_ONE, FEATURE_BODY, operation_id="createFeature"),
    "list": op(
        "List features",
        paginated("FeaturePage", "features", Feature),
        parameters=[*PAGE, query("search_term", description="in name, code and description")],
        operation_id="findAllFeatures",
    ),
    "retrieve": op("Retrieve a feature", FEATURE_ONE, operation_id="findFeature"),
    "update": op(
        "Update a feature (partial: privileges not sent are kept)",
        FEATURE_ONE,
        FEATURE_BODY,
        operation_id="updateFeature",
    ),
    "destroy": op("Delete a feature", FEATURE_ONE, operation_id="destroyFeature"),
    "privilege": op(
        "Delete a privilege of a feature", FEATURE_ONE, operation_id="deleteFeaturePrivilege"
    ),
}

BILLABLE_METRIC_VIEWS = {
    **crud_ops(
        "billable metric",
        "billable_metric",
        "billable_metrics",
        BillableMetric,
        BillableMetricInput,
    ),
    "evaluate_expression": op(
        "Evaluate an expression on a sample event",
        wrapped("ExpressionResultEnvelope", "expression_result", ExpressionResult()),
        EvaluateExpressionInput,
        methods=["POST"],
    ),
}

PLAN_VIEWS = {
    **crud_ops("plan", "plan", "plans", Plan, PlanInput),
    "metadata": [
        op("Read a plan's metadata", METADATA_ONE, methods=["GET"]),
        op("Replace a plan's metadata", METADATA_ONE, METADATA_BODY, methods=["POST"]),
        op("Merge into a plan's metadata", METADATA_ONE, METADATA_BODY, methods=["PATCH"]),
        op("Clear a plan's metadata", METADATA_ONE, methods=["DELETE"]),
    ],
    "metadata_key": op("Remove one key of a plan's metadata", METADATA_ONE),
    "entitlements": [
        op(
            "List a plan's entitlements",
            PLAN_ENTITLEMENTS,
            methods=["GET"],
            operation_id="findAllEntitlements",
        ),
        op(
            "Replace a plan's entitlements",
            PLAN_ENTITLEMENTS,
            ENTITLEMENTS_BODY,
            methods=["POST"],
            operation_id="createEntitlement",
        ),
        op(
            "Add or update entitlements of a plan",
            PLAN_ENTITLEMENTS,
            ENTITLEMENTS_BODY,
            methods=["PATCH"],
            operation_id="updateEntitlement",
        ),
    ],
    "entitlement": [
        op(
            "Retrieve a plan's entitlement",
            PLAN_ENTITLEMENT,
            methods=["GET"],
            operation_id="findEntitlement",
        ),
        op(
            "Remove a feature from a plan",
            PLAN_ENTITLEMENT,
            methods=["DELETE"],
            operation_id="destroyEntitlement",
        ),
    ],
    "entitlement_privilege": op(
        "Remove a privilege from a plan's entitlement",
        PLAN_ENTITLEMENT,
        operation_id="removeEntitlementPrivilege",
    ),
}

CHARGE_VIEWS = crud_ops("charge", "charge", "charges", Charge, ChargeCreateInput)
CHARGE_FILTER_VIEWS = crud_ops(
    "charge filter", "filter", "filters", ChargeFilter, ChargeFilterCreateInput
)

FIXED_CHARGE_VIEWS = crud_ops(
    "fixed charge", "fixed_charge", "fixed_charges", FixedCharge, FixedChargeInput
)

ADD_ON_VIEWS = crud_ops("add-on", "add_on", "add_ons", AddOn, AddOnInput)

COUPON_VIEWS = crud_ops("coupon", "coupon", "coupons", Coupon, CouponInput)

APPLIED_COUPON_VIEWS = crud_ops(
    "applied coupon",
    "applied_coupon",
    "applied_coupons",
    AppliedCoupon,
    AppliedCouponInput,
    filters=[
        query("external_customer_id"),
        query("status", description="active or terminated"),
        query("coupon_code[]", description="repeatable"),
    ],
    lookup=False,
)
