"""The /api/v1 router. No trailing slashes and ids may contain dots (Lago's client)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from backoffice.api_activity_logs import ActivityLogViewSet
from backoffice.api_analytics import AnalyticsViewSet
from core.api_logs import ApiLogViewSet
from core.api_organization import OrganizationViewSet as CoreOrganizationViewSet
from customers import api as customers_api
from customers.api_charges import (
    SubscriptionChargeFilterViewSet,
    SubscriptionChargeViewSet,
    SubscriptionFixedChargeViewSet,
)
from customers.api_coupons import AppliedCouponViewSet
from customers.api_wallets import WalletTransactionViewSet as CoreWalletTransactionViewSet
from customers.api_wallets import WalletViewSet
from invoices.api_credit_notes import CreditNoteViewSet
from invoices.api_customers import CustomerInvoiceActions
from invoices.api_fees import FeeViewSet
from invoices.api_subscriptions import SubscriptionLifetimeUsageActions
from payments.api import PayableInvoiceViewSet
from payments.api_customers import CustomerCheckoutActions
from payments.api_payments import PaymentReceiptViewSet, PaymentRequestViewSet, PaymentViewSet
from payments.api_wallet_transactions import WalletTransactionPaymentActions
from plans.api import BillableMetricViewSet, PlanViewSet
from plans.api_addons import AddOnViewSet
from plans.api_charges import PlanChargeFilterViewSet, PlanChargeViewSet, PlanFixedChargeViewSet
from plans.api_coupons import CouponViewSet
from plans.api_features import FeatureViewSet
from portal.api import CustomerPortalActions
from taxes.api import TaxViewSet
from usage.api import CustomerUsageActions, EventViewSet
from webhooks.api import WebhookEndpointViewSet, WebhookKeyViewSet
from webhooks.api_organization import OrganizationWebhookActions


class CustomerViewSet(
    CustomerUsageActions,
    CustomerInvoiceActions,
    CustomerCheckoutActions,
    CustomerPortalActions,
    customers_api.CustomerViewSet,
):
    # /customers with the endpoints of higher layers (usage, invoices, checkout, payments,
    # portal) mixed in: same paths and URL names as when they were written in
    # customers/api.py. No docstring: the OpenAPI descriptions come from LagoViewSet's.
    pass


class SubscriptionViewSet(SubscriptionLifetimeUsageActions, customers_api.SubscriptionViewSet):
    # /subscriptions with lifetime_usage (invoices: progressive billing) mixed in.
    pass


class WalletTransactionViewSet(WalletTransactionPaymentActions, CoreWalletTransactionViewSet):
    # /wallet_transactions with payment_url (payments) mixed in.
    pass


class OrganizationViewSet(OrganizationWebhookActions, CoreOrganizationViewSet):
    # /organizations with webhook_url (webhooks) mixed in.
    pass


router = SimpleRouter(trailing_slash=False)
router.register("billable_metrics", BillableMetricViewSet, basename="billable_metric")
router.register("plans", PlanViewSet, basename="plan")
router.register(r"plans/(?P<plan_code>[^/]+)/charges", PlanChargeViewSet, basename="plan_charge")
router.register(
    r"plans/(?P<plan_code>[^/]+)/fixed_charges",
    PlanFixedChargeViewSet,
    basename="plan_fixed_charge",
)
router.register(
    r"plans/(?P<plan_code>[^/]+)/charges/(?P<charge_code>[^/]+)/filters",
    PlanChargeFilterViewSet,
    basename="plan_charge_filter",
)
router.register("customers", CustomerViewSet, basename="customer")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register(
    r"subscriptions/(?P<external_id>[^/]+)/charges",
    SubscriptionChargeViewSet,
    basename="subscription_charge",
)
router.register(
    r"subscriptions/(?P<external_id>[^/]+)/fixed_charges",
    SubscriptionFixedChargeViewSet,
    basename="subscription_fixed_charge",
)
router.register(
    r"subscriptions/(?P<external_id>[^/]+)/charges/(?P<charge_code>[^/]+)/filters",
    SubscriptionChargeFilterViewSet,
    basename="subscription_charge_filter",
)
router.register("events", EventViewSet, basename="event")
router.register("invoices", PayableInvoiceViewSet, basename="invoice")  # + retry_payment
router.register("fees", FeeViewSet, basename="fee")
router.register("payments", PaymentViewSet, basename="payment")
router.register("payment_requests", PaymentRequestViewSet, basename="payment_request")
router.register("payment_receipts", PaymentReceiptViewSet, basename="payment_receipt")
router.register("credit_notes", CreditNoteViewSet, basename="credit_note")
router.register("taxes", TaxViewSet, basename="tax")
router.register("add_ons", AddOnViewSet, basename="add_on")
router.register("features", FeatureViewSet, basename="feature")
router.register("coupons", CouponViewSet, basename="coupon")
router.register("applied_coupons", AppliedCouponViewSet, basename="applied_coupon")
router.register("wallets", WalletViewSet, basename="wallet")
router.register("wallet_transactions", WalletTransactionViewSet, basename="wallet_transaction")
router.register("webhook_endpoints", WebhookEndpointViewSet, basename="webhook_endpoint")
router.register("webhooks", WebhookKeyViewSet, basename="webhook")  # public_key, json_public_key
router.register("api_logs", ApiLogViewSet, basename="api_log")
# Read every domain: backoffice, the top layer (the dashboard's figures, the audit trail).
router.register("activity_logs", ActivityLogViewSet, basename="activity_log")
router.register("analytics", AnalyticsViewSet, basename="analytics")

organization = OrganizationViewSet.as_view({"get": "retrieve", "put": "update"})
urlpatterns = [*router.urls, path("organizations", organization, name="organization")]
