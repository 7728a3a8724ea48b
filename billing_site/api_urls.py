"""The /api/v1 router. No trailing slashes and ids may contain dots (Lago's client)."""

from rest_framework.routers import SimpleRouter

from customers.api import CustomerViewSet, SubscriptionViewSet
from invoices.api import InvoiceViewSet
from plans.api import BillableMetricViewSet, PlanViewSet
from usage.api import EventViewSet
from webhooks.api import WebhookEndpointViewSet

router = SimpleRouter(trailing_slash=False)
router.register("billable_metrics", BillableMetricViewSet, basename="billable_metric")
router.register("plans", PlanViewSet, basename="plan")
router.register("customers", CustomerViewSet, basename="customer")
router.register("subscriptions", SubscriptionViewSet, basename="subscription")
router.register("events", EventViewSet, basename="event")
router.register("invoices", InvoiceViewSet, basename="invoice")
router.register("webhook_endpoints", WebhookEndpointViewSet, basename="webhook_endpoint")

urlpatterns = router.urls
