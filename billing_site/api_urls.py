"""The /api/v1 router. No trailing slashes and ids may contain dots (Lago's client)."""

from rest_framework.routers import SimpleRouter

from customers import api as customers_api
from customers.api import SubscriptionViewSet
from customers.api_coupons import AppliedCouponViewSet
from customers.api_wallets import WalletTransactionViewSet, WalletViewSet
from invoices.api_credit_notes import CreditNoteViewSet
from payments.api import PayableInvoiceViewSet
from payments.api_customers import CustomerCheckoutActions
from plans.api import BillableMetricViewSet, PlanViewSet
from plans.api_addons import AddOnViewSet
from plans.api_coupons import CouponViewSet
from plans.api_features import FeatureViewSet
from portal.api import CustomerPortalActions
from taxes.api import TaxViewSet
from usage.api import CustomerUsageActions, EventViewSet
from webhooks.api import WebhookEndpointViewSet, WebhookKeyViewSet


class CustomerViewSet(
    CustomerUsageActions,
    CustomerCheckoutActions,
    CustomerPortalActions,
    customers_api.CustomerViewSet,
):
    # /customers with the endpoints of higher layers (usage, checkout, portal) mixed in: same
    # paths and URL names as when they were written in customers/api.py. No docstring: the
    # OpenAPI descriptions come from LagoViewSet's, as before.
    pass


router = SimpleRouter(trailing_slash=False)
router.register("billable_metrics", BillableMetricViewSet, basename="billable_metric")
router.register("plans", PlanViewSet, basename="plan")
router.register("customers", CustomerViewSet, basename="customer")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("events", EventViewSet, basename="event")
router.register("invoices", PayableInvoiceViewSet, basename="invoice")  # + retry_payment
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

urlpatterns = router.urls
