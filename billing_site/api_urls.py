"""The /api/v1 router. No trailing slashes and ids may contain dots (Lago's client)."""

from rest_framework.routers import SimpleRouter

from customers.api import CustomerViewSet, SubscriptionViewSet
from customers.api_coupons import AppliedCouponViewSet
from customers.api_wallets import WalletTransactionViewSet, WalletViewSet
from invoices.api import InvoiceViewSet
from invoices.api_credit_notes import CreditNoteViewSet
from plans.api import BillableMetricViewSet, PlanViewSet
from plans.api_addons import AddOnViewSet
from plans.api_coupons import CouponViewSet
from taxes.api import TaxViewSet
from usage.api import EventViewSet
from webhooks.api import WebhookEndpointViewSet

router = SimpleRouter(trailing_slash=False)
router.register("billable_metrics", BillableMetricViewSet, basename="billable_metric")
router.register("plans", PlanViewSet, basename="plan")
router.register("customers", CustomerViewSet, basename="customer")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("events", EventViewSet, basename="event")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("credit_notes", CreditNoteViewSet, basename="credit_note")
router.register("taxes", TaxViewSet, basename="tax")
router.register("add_ons", AddOnViewSet, basename="add_on")
router.register("coupons", CouponViewSet, basename="coupon")
router.register("applied_coupons", AppliedCouponViewSet, basename="applied_coupon")
router.register("wallets", WalletViewSet, basename="wallet")
router.register("wallet_transactions", WalletTransactionViewSet, basename="wallet_transaction")
router.register("webhook_endpoints", WebhookEndpointViewSet, basename="webhook_endpoint")

urlpatterns = router.urls
