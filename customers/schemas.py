"""OpenAPI declarations of the customers, subscriptions and wallets endpoints (documentation
only: the views parse Lago's wire format themselves; see core/api/schema.py)."""

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.api.schema import (
    PAGE,
    Bool,
    Choice,
    Date,
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
    required_query,
    wrapped,
)
from plans.schemas import (
    Charge,
    ChargeFilter,
    ChargeFilterCreateInput,
    ChargeFilterInput,
    FixedCharge,
)

# --- customers -------------------------------------------------------------------------------


class CustomerMetadataInput(serializers.Serializer):
    key = Str()
    value = Str()
    display_in_invoice = Bool(required=False)


class BillingConfigurationInput(serializers.Serializer):
    invoice_grace_period = Int(required=False, allow_null=True)
    payment_provider = Choice(["stripe"], required=False, allow_null=True)
    payment_provider_code = Str(required=False, allow_null=True)
    provider_customer_id = Str(required=False, allow_null=True)
    sync_with_provider = Bool(required=False)
    document_locale = Str(required=False, allow_null=True)


class AddressInput(serializers.Serializer):
    address_line1 = Str(required=False, allow_null=True)
    address_line2 = Str(required=False, allow_null=True)
    city = Str(required=False, allow_null=True)
    state = Str(required=False, allow_null=True)
    zipcode = Str(required=False, allow_null=True)
    country = Str(required=False, allow_null=True)


class CustomerInput(AddressInput):
    external_id = Str()
    name = Str(required=False, allow_null=True)
    firstname = Str(required=False, allow_null=True)
    lastname = Str(required=False, allow_null=True)
    customer_type = Choice(["company", "individual"], required=False, allow_null=True)
    email = Str(required=False, allow_null=True)
    phone = Str(required=False, allow_null=True)
    url = Str(required=False, allow_null=True)
    legal_name = Str(required=False, allow_null=True)
    legal_number = Str(required=False, allow_null=True)
    tax_identification_number = Str(required=False, allow_null=True)
    currency = Str(required=False, allow_null=True, help_text="ISO 4217, e.g. EUR")
    timezone = Str(required=False, allow_null=True, help_text="IANA zone, e.g. Europe/Paris")
    net_payment_term = Int(required=False, allow_null=True)
    finalize_zero_amount_invoice = Choice(["inherit", "finalize", "skip"], required=False)
    shipping_address = AddressInput(required=False)
    tax_codes = codes(required=False)
    billing_configuration = BillingConfigurationInput(required=False)
    metadata = CustomerMetadataInput(many=True, required=False)


class Customer(CustomerInput):
    lago_id = Str()
    sequential_id = Int()
    slug = Str(help_text="<document number prefix>-<sequential id, 3 digits>")
    applicable_timezone = Str()
    created_at = DateTime()
    updated_at = DateTime()


CUSTOMER_ONE = wrapped("CustomerEnvelope", "customer", Customer())

# --- subscriptions and usage -----------------------------------------------------------------

SUBSCRIPTION_STATUSES = ["pending", "active", "terminated", "canceled"]


class SubscriptionInput(serializers.Serializer):
    external_customer_id = Str()
    plan_code = Str()
    external_id = Str()
    name = Str(required=False, allow_null=True)
    billing_time = Choice(["calendar", "anniversary"], required=False)
    subscription_at = DateTime(required=False, allow_null=True)
    ending_at = DateTime(required=False, allow_null=True)
    on_termination_credit_note = Choice(["credit", "refund", "offset", "skip"], required=False)
    on_termination_invoice = Choice(["generate", "skip"], required=False)
    plan_overrides = Json(required=False, help_text="Plan fields and charges to override")


class Subscription(serializers.Serializer):
    lago_id = Str()
    external_id = Str()
    lago_customer_id = Str()
    external_customer_id = Str()
    name = Str(allow_null=True)
    plan_code = Str()
    plan_amount_cents = Int()
    plan_amount_currency = Str()
    status = Choice(SUBSCRIPTION_STATUSES)
    billing_time = Str()
    subscription_at = DateTime()
    started_at = DateTime(allow_null=True)
    ending_at = DateTime(allow_null=True)
    terminated_at = DateTime(allow_null=True)
    canceled_at = DateTime(allow_null=True)
    created_at = DateTime()
    previous_plan_code = Str(allow_null=True)
    next_plan_code = Str(allow_null=True)
    downgrade_plan_date = Date(allow_null=True)
    current_billing_period_started_at = DateTime(allow_null=True)
    current_billing_period_ending_at = DateTime(allow_null=True)


STATUS_FILTER = query("status", description="pending, active, terminated or canceled")

# --- wallets ---------------------------------------------------------------------------------


class RecurringRuleInput(serializers.Serializer):
    trigger = Choice(["interval", "threshold"])
    interval = Choice(["weekly", "monthly", "quarterly", "yearly"], required=False)
    threshold_credits = decimal_string(required=False)
    method = Choice(["fixed", "target"], required=False)
    paid_credits = decimal_string(required=False)
    granted_credits = decimal_string(required=False)
    target_ongoing_balance = decimal_string(required=False)
    started_at = DateTime(required=False, allow_null=True)
    expiration_at = DateTime(required=False, allow_null=True)
    transaction_name = Str(required=False)
    transaction_metadata = List(child=Dict(), required=False)


class AppliesToInput(serializers.Serializer):
    fee_types = codes(required=False)
    billable_metric_codes = codes(required=False)


class WalletInput(serializers.Serializer):
    external_customer_id = Str()
    currency = Str(help_text="ISO 4217")
    rate_amount = decimal_string()
    name = Str(required=False, allow_null=True)
    code = Str(required=False)
    priority = Int(required=False)
    paid_credits = decimal_string(required=False)
    granted_credits = decimal_string(required=False)
    expiration_at = DateTime(required=False, allow_null=True)
    invoice_requires_successful_payment = Bool(required=False)
    paid_top_up_min_amount_cents = Int(required=False, allow_null=True)
    paid_top_up_max_amount_cents = Int(required=False, allow_null=True)
    ignore_paid_top_up_limits_on_creation = Bool(required=False)
    applies_to = AppliesToInput(required=False)
    recurring_transaction_rules = RecurringRuleInput(many=True, required=False)
    metadata = Dict(child=Str(), required=False)


class Wallet(serializers.Serializer):
    lago_id = Str()
    lago_customer_id = Str()
    external_customer_id = Str()
    status = Choice(["active", "terminated"])
    currency = Str()
    name = Str(allow_null=True)
    code = Str()
    priority = Int()
    rate_amount = decimal_string()
    credits_balance = decimal_string()
    balance_cents = Int()
    consumed_credits = decimal_string()
    ongoing_balance_cents = Int()
    created_at = DateTime()
    expiration_at = DateTime(allow_null=True)
    terminated_at = DateTime(allow_null=True)
    metadata = Dict()


class WalletTransactionInput(serializers.Serializer):
    wallet_id = Str(help_text="The wallet's lago_id")
    paid_credits = decimal_string(required=False)
    granted_credits = decimal_string(required=False)
    voided_credits = decimal_string(required=False)
    name = Str(required=False)
    invoice_requires_successful_payment = Bool(required=False)
    ignore_paid_top_up_limits = Bool(required=False)
    metadata = List(child=Dict(), required=False)


class WalletTransaction(serializers.Serializer):
    lago_id = Str()
    lago_wallet_id = Str()
    lago_invoice_id = Str(allow_null=True)
    status = Choice(["pending", "settled", "failed"])
    source = Str()
    transaction_status = Str()
    transaction_type = Choice(["inbound", "outbound"])
    amount = decimal_string()
    credit_amount = decimal_string()
    name = Str(allow_null=True)
    settled_at = DateTime(allow_null=True)
    created_at = DateTime()


class Consumption(serializers.Serializer):
    lago_id = Str()
    amount_cents = Int()
    credit_amount = decimal_string()
    created_at = DateTime()
    wallet_transaction = WalletTransaction()


METADATA_BODY = inline_serializer(
    name="MetadataInput", fields={"metadata": Dict(child=Str(allow_null=True))}
)
METADATA_ONE = inline_serializer(name="MetadataEnvelope", fields={"metadata": Dict()})


def _metadata_ops(resource: str) -> list:
    """GET reads, POST replaces, PATCH merges, DELETE clears a resource's metadata."""
    return [
        op(f"Read a {resource}'s metadata", METADATA_ONE, methods=["GET"]),
        op(f"Replace a {resource}'s metadata", METADATA_ONE, METADATA_BODY, methods=["POST"]),
        op(f"Merge into a {resource}'s metadata", METADATA_ONE, METADATA_BODY, methods=["PATCH"]),
        op(f"Clear a {resource}'s metadata", METADATA_ONE, methods=["DELETE"]),
    ]


# --- usage alerts ----------------------------------------------------------------------------


class AlertThreshold(serializers.Serializer):
    code = Str(allow_null=True, required=False)
    value = decimal_string()
    recurring = Bool(required=False)


class AlertInput(serializers.Serializer):
    alert_type = Str(required=False, help_text="required on create; fixed afterwards")
    code = Str(required=False)
    name = Str(required=False, allow_null=True)
    billable_metric_code = Str(required=False, allow_null=True)
    thresholds = AlertThreshold(many=True, required=False)


class Alert(serializers.Serializer):
    lago_id = Str()
    lago_organization_id = Str()
    external_subscription_id = Str(allow_null=True)
    lago_wallet_id = Str(allow_null=True)
    wallet_code = Str(allow_null=True)
    alert_type = Str()
    code = Str()
    name = Str(allow_null=True)
    direction = Choice(["increasing", "decreasing"])
    previous_value = Json()
    last_processed_at = DateTime(allow_null=True)
    thresholds = AlertThreshold(many=True)
    created_at = DateTime()
    billable_metric = Dict(allow_null=True)


ALERT_ONE = wrapped("AlertEnvelope", "alert", Alert())
ALERT_BODY = inline_serializer(
    name="AlertCreateInput",
    fields={"alert": AlertInput(required=False), "alerts": AlertInput(many=True, required=False)},
)
ALERT_UPDATE = wrapped("AlertInputEnvelope", "alert", AlertInput())
ALERT_LIST = inline_serializer(name="AlertList", fields={"alerts": Alert(many=True)})


def _alert_ops(action: str, label: str, lago: str) -> dict:
    """The collection and member operations of a subscription's or a wallet's alerts (Lago's
    operation ids, e.g. getSubscriptionAlerts)."""
    return {
        f"{action}s": [
            op(f"List a {label}'s alerts", ALERT_LIST, methods=["GET"], operation_id=f"get{lago}s"),
            op(
                "Create one alert ({alert}: answers {alert}) or a batch, all or nothing "
                "({alerts}: answers {alerts})",
                ALERT_ONE,
                ALERT_BODY,
                methods=["POST"],
                operation_id=f"create{lago}",
            ),
            op(
                f"Delete all of a {label}'s alerts",
                methods=["DELETE"],
                operation_id=f"deleteAll{lago}s",
            ),
        ],
        action: [
            op("Retrieve an alert", ALERT_ONE, methods=["GET"], operation_id=f"get{lago}"),
            op(
                "Update an alert",
                ALERT_ONE,
                ALERT_UPDATE,
                methods=["PUT"],
                operation_id=f"update{lago}",
            ),
            op("Delete an alert", ALERT_ONE, methods=["DELETE"], operation_id=f"delete{lago}"),
        ],
    }


# --- entitlements ------------------------------------------------------------------------------


class SubscriptionEntitlementPrivilege(serializers.Serializer):
    code = Str()
    name = Str(allow_null=True)
    value_type = Choice(["integer", "boolean", "string", "select"])
    config = Dict()
    value = Json()
    plan_value = Json(allow_null=True)
    override_value = Json(allow_null=True)


class SubscriptionEntitlement(serializers.Serializer):
    code = Str()
    name = Str(allow_null=True)
    description = Str(allow_null=True)
    privileges = SubscriptionEntitlementPrivilege(many=True)
    overrides = Dict()


SUBSCRIPTION_ENTITLEMENTS = inline_serializer(
    name="SubscriptionEntitlements", fields={"entitlements": SubscriptionEntitlement(many=True)}
)
SUBSCRIPTION_ENTITLEMENTS_BODY = inline_serializer(
    name="SubscriptionEntitlementUpdateInput",
    fields={
        "entitlements": Dict(child=Dict(), help_text="{feature_code: {privilege_code: value}}")
    },
)
SUBSCRIPTION_STATUS = query(
    "subscription_status", description="pending, active (default), terminated or canceled"
)

# --- the operations, per viewset ---------------------------------------------------------------

CUSTOMER_VIEWS = {
    **crud_ops("customer", "customer", "customers", Customer, CustomerInput, skip=["update"]),
    "create": op(
        "Create or update a customer (by external_id)",
        CUSTOMER_ONE,
        wrapped("CustomerInputEnvelope", "customer", CustomerInput()),
    ),
    "applied_coupon_destroy": op(
        "Remove an applied coupon from a customer",
        inline_serializer(name="AppliedCouponRemoved", fields={"applied_coupon": Dict()}),
    ),
    **_alert_ops("wallet_alert", "wallet", "CustomerWalletAlert"),
    "subscriptions": op(
        "List a customer's subscriptions",
        paginated("CustomerSubscriptionPage", "subscriptions", Subscription),
        parameters=[
            *PAGE,
            query("plan_code"),
            query("status[]", description="repeatable; default active"),
        ],
    ),
    "applied_coupons": op(
        "List a customer's applied coupons",
        inline_serializer(
            name="CustomerAppliedCouponPage",
            fields={"applied_coupons": List(child=Dict()), "meta": Dict()},
        ),
        parameters=[
            *PAGE,
            query("status", description="active or terminated"),
            query("coupon_code[]", description="repeatable"),
        ],
    ),
}

SUBSCRIPTION_VIEWS = {
    **crud_ops(
        "subscription",
        "subscription",
        "subscriptions",
        Subscription,
        SubscriptionInput,
        filters=[
            query("external_customer_id"),
            query("plan_code"),
            query("status[]", description="repeatable; default active"),
            STATUS_FILTER,
        ],
    ),
    "retrieve": op(
        "Retrieve a subscription",
        wrapped("SubscriptionEnvelope", "subscription", Subscription()),
        parameters=[STATUS_FILTER],
    ),
    "update": op(
        "Update a subscription",
        wrapped("SubscriptionEnvelope", "subscription", Subscription()),
        wrapped("SubscriptionInputEnvelope", "subscription", SubscriptionInput()),
        parameters=[STATUS_FILTER],
    ),
    "destroy": op(
        "Terminate the active subscription, or cancel the pending one",
        wrapped("SubscriptionEnvelope", "subscription", Subscription()),
        parameters=[
            query("status", description="active (default) or pending"),
            query("on_termination_credit_note", description="credit, refund, offset or skip"),
            query("on_termination_invoice", description="generate or skip"),
        ],
    ),
    **_alert_ops("alert", "subscription", "SubscriptionAlert"),
    "entitlements": [
        op(
            "List a subscription's entitlements (the plan's merged with its overrides)",
            SUBSCRIPTION_ENTITLEMENTS,
            methods=["GET"],
            parameters=[SUBSCRIPTION_STATUS],
            operation_id="findAllSubscriptionEntitlements",
        ),
        op(
            "Override a subscription's entitlements",
            SUBSCRIPTION_ENTITLEMENTS,
            SUBSCRIPTION_ENTITLEMENTS_BODY,
            methods=["PATCH"],
            parameters=[SUBSCRIPTION_STATUS],
            operation_id="updateSubscriptionEntitlements",
        ),
    ],
    "entitlement": op(
        "Remove a feature from a subscription",
        SUBSCRIPTION_ENTITLEMENTS,
        parameters=[SUBSCRIPTION_STATUS],
        operation_id="destroySubscriptionEntitlement",
    ),
    "entitlement_privilege": op(
        "Remove a privilege from a subscription's entitlement",
        SUBSCRIPTION_ENTITLEMENTS,
        parameters=[SUBSCRIPTION_STATUS],
        operation_id="destroySubscriptionEntitlementPrivilege",
    ),
}

WALLET_VIEWS = {
    **crud_ops(
        "wallet",
        "wallet",
        "wallets",
        Wallet,
        WalletInput,
        filters=[required_query("external_customer_id"), query("status")],
    ),
    "wallet_transactions": op(
        "List a wallet's transactions",
        paginated("WalletTransactionPage", "wallet_transactions", WalletTransaction),
        parameters=[
            *PAGE,
            query("status"),
            query("transaction_type"),
            query("transaction_status"),
        ],
    ),
    "metadata": _metadata_ops("wallet"),
}

WALLET_TRANSACTION_VIEWS = {
    "create": op(
        "Top up, grant or void credits on a wallet",
        inline_serializer(
            name="WalletTransactionList",
            fields={"wallet_transactions": WalletTransaction(many=True)},
        ),
        wrapped("WalletTransactionInputEnvelope", "wallet_transaction", WalletTransactionInput()),
        parameters=[],
    ),
    "retrieve": op(
        "Retrieve a wallet transaction",
        wrapped("WalletTransactionEnvelope", "wallet_transaction", WalletTransaction()),
    ),
    "consumptions": op(
        "Which outbound transactions took an inbound's credits",
        paginated(
            "WalletTransactionConsumptionPage", "wallet_transaction_consumptions", Consumption
        ),
        parameters=PAGE,
    ),
    "fundings": op(
        "Which inbound transactions funded an outbound one",
        paginated("WalletTransactionFundingPage", "wallet_transaction_fundings", Consumption),
        parameters=PAGE,
    ),
}

# Served under /customers/{external_id} (customers/api_wallets.py, CustomerWalletActions):
# stacked decorators, one per method.
_WALLET_ONE = wrapped("WalletEnvelope", "wallet", Wallet())
_WALLET_BODY = wrapped("WalletInputEnvelope", "wallet", WalletInput())


def _stacked(*decorators):
    def apply(function):
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


WALLETS_OF_CUSTOMER = _stacked(
    op(
        "List a customer's wallets",
        paginated("CustomerWalletPage", "wallets", Wallet),
        parameters=[*PAGE, query("status"), query("currency")],
        methods=["GET"],
    ),
    op("Create a wallet for the customer", _WALLET_ONE, _WALLET_BODY, methods=["POST"]),
)
WALLET_OF_CUSTOMER = _stacked(
    op("Retrieve a customer's wallet by code", _WALLET_ONE, methods=["GET"]),
    op("Update a customer's wallet by code", _WALLET_ONE, _WALLET_BODY, methods=["PUT"]),
    op("Terminate a customer's wallet by code", _WALLET_ONE, methods=["DELETE"]),
)
WALLET_METADATA_OF_CUSTOMER = _stacked(*_metadata_ops("customer's wallet"))


# --- one subscription's charges (overrides) -----------------------------------------------------


class ChargeOverrideInput(serializers.Serializer):
    invoice_display_name = Str(required=False, allow_null=True)
    min_amount_cents = Int(required=False)
    properties = Json(required=False, help_text="Per charge model (amount, graduated_ranges…)")
    filters = ChargeFilterInput(many=True, required=False)
    tax_codes = codes(required=False)


SUBSCRIPTION_STATUS = query(
    "subscription_status", description="pending, active (default), terminated or canceled"
)

SUBSCRIPTION_CHARGE_VIEWS = {
    "list": op(
        "List a subscription's charges (its overrides where it has them)",
        paginated("SubscriptionChargePage", "charges", Charge),
        parameters=[*PAGE, SUBSCRIPTION_STATUS],
    ),
    "retrieve": op(
        "Retrieve a subscription's charge",
        wrapped("ChargeEnvelope", "charge", Charge()),
        parameters=[SUBSCRIPTION_STATUS],
    ),
    "update": op(
        "Override a charge for one subscription",
        wrapped("ChargeEnvelope", "charge", Charge()),
        wrapped("ChargeOverrideInputEnvelope", "charge", ChargeOverrideInput()),
        parameters=[SUBSCRIPTION_STATUS],
    ),
}

SUBSCRIPTION_CHARGE_FILTER_VIEWS = {
    name: op(
        f"{name.title()} a filter of a subscription's charge",
        wrapped("ChargeFilterEnvelope", "filter", ChargeFilter()),
        None if name in ("retrieve", "destroy") else body,
        parameters=[SUBSCRIPTION_STATUS],
    )
    for name, body in (
        ("create", wrapped("ChargeFilterCreateInputEnvelope", "filter", ChargeFilterCreateInput())),
        ("update", wrapped("ChargeFilterCreateInputEnvelope", "filter", ChargeFilterCreateInput())),
        ("retrieve", None),
        ("destroy", None),
    )
} | {
    "list": op(
        "List the filters of a subscription's charge",
        paginated("SubscriptionChargeFilterPage", "filters", ChargeFilter),
        parameters=[*PAGE, SUBSCRIPTION_STATUS],
    )
}


class FixedChargeUnitsInput(serializers.Serializer):
    units = decimal_string()


SUBSCRIPTION_FIXED_CHARGE_VIEWS = {
    "list": op(
        "List a subscription's fixed charges (with its own units)",
        paginated("SubscriptionFixedChargePage", "fixed_charges", FixedCharge),
        parameters=[*PAGE, SUBSCRIPTION_STATUS],
    ),
    "retrieve": op(
        "Retrieve a subscription's fixed charge",
        wrapped("FixedChargeEnvelope", "fixed_charge", FixedCharge()),
        parameters=[SUBSCRIPTION_STATUS],
    ),
    "update": op(
        "Set a subscription's own units of a fixed charge",
        wrapped("FixedChargeEnvelope", "fixed_charge", FixedCharge()),
        wrapped("FixedChargeUnitsInputEnvelope", "fixed_charge", FixedChargeUnitsInput()),
        parameters=[SUBSCRIPTION_STATUS],
    ),
}
