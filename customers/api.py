"""REST API v1 for customers and subscriptions (Lago wire format).

The customer endpoints that need a higher layer live there and are mixed into the routed
CustomerViewSet in billing_site/api_urls.py: usage (current_usage, projected_usage,
past_usage) in usage/api.py, checkout_url in payments/api_customers.py, portal_url in
portal/api.py."""

from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError

from core.api.viewsets import LagoViewSet
from core.selectors import organization_get
from customers.alerts.api import SubscriptionAlertActions, WalletAlertActions
from customers.api_entitlements import SubscriptionEntitlementActions
from customers.api_wallets import CustomerWalletActions
from customers.models import Customer, Subscription
from customers.schemas import CUSTOMER_VIEWS, SUBSCRIPTION_VIEWS
from customers.selectors import (
    customer_get,
    subscription_get,
)
from customers.serializers import customer_json, subscription_json
from customers.services import (
    customer_delete,
    customer_upsert,
    subscription_cancel,
    subscription_create,
    subscription_terminate,
    subscription_update,
)


def subscription_rows(params, external_customer_id: str | None):
    """Lago's subscription list filters (plan_code, status[]: active unless asked), for
    GET /subscriptions and GET /customers/{id}/subscriptions alike."""
    rows = Subscription.objects.select_related(
        "customer", "plan__parent", "previous_subscription__plan__parent"
    ).order_by("-created_at", "-id")
    if external_customer_id:
        rows = rows.filter(customer__external_id=external_customer_id)
    if params.get("plan_code"):
        rows = rows.filter(plan__code=params["plan_code"])
    statuses = params.getlist("status[]") or params.getlist("status")
    return rows.filter(status__in=statuses or [Subscription.Status.ACTIVE])


@extend_schema_view(**CUSTOMER_VIEWS)
class CustomerViewSet(CustomerWalletActions, WalletAlertActions, LagoViewSet):
    lago_root, lago_plural = "customer", "customers"
    lookup_field = "external_id"

    def get_queryset(self):
        return Customer.objects.live().prefetch_related("metadata").order_by("-created_at", "-id")

    def create(self, request):
        """Upsert by external_id; 200 for both create and update (Lago)."""
        customer, _ = customer_upsert(data=self.root_payload(request))
        return self.render_one(customer_json(customer))

    def list(self, request):
        prefix = organization_get().document_number_prefix
        return self.render_page(
            self.get_queryset(), lambda row: customer_json(row, slug_prefix=prefix)
        )

    def retrieve(self, request, external_id=None):
        return self.render_one(customer_json(customer_get(external_id=external_id)))

    def destroy(self, request, external_id=None):
        customer = customer_delete(customer=customer_get(external_id=external_id))
        return self.render_one(customer_json(customer))

    @action(detail=True, methods=["get"], url_path="subscriptions")
    def subscriptions(self, request, external_id=None):
        """The customer's subscriptions, with GET /subscriptions' filters (404 if unknown)."""
        customer = customer_get(external_id=external_id)
        rows = subscription_rows(request.query_params, None).filter(customer=customer)
        return self.render_page(rows, subscription_json, plural="subscriptions")

    @action(detail=True, methods=["get"], url_path="applied_coupons")
    def applied_coupons(self, request, external_id=None):
        """The customer's applied coupons, with GET /applied_coupons' filters."""
        from customers.api_coupons import applied_coupons_page

        customer = customer_get(external_id=external_id)
        return applied_coupons_page(self, request, customer.external_id)

    @action(
        detail=True,
        methods=["delete"],
        url_path=r"applied_coupons/(?P<applied_coupon_id>[^/]+)",
    )
    def applied_coupon_destroy(self, request, external_id=None, applied_coupon_id=None):
        """Remove a coupon from a customer (terminates the applied coupon)."""
        from customers.api_coupons import applied_coupon_destroy_view

        return applied_coupon_destroy_view(self, request, external_id, applied_coupon_id)


@extend_schema_view(**SUBSCRIPTION_VIEWS)
class SubscriptionViewSet(SubscriptionEntitlementActions, SubscriptionAlertActions, LagoViewSet):
    lago_root, lago_plural = "subscription", "subscriptions"
    lookup_field = "external_id"

    def get_queryset(self):
        params = self.request.query_params
        return subscription_rows(params, params.get("external_customer_id"))

    def create(self, request):
        subscription = subscription_create(data=self.root_payload(request))
        return self.render_one(subscription_json(subscription))

    def list(self, request):
        return self.render_page(self.get_queryset(), subscription_json)

    def retrieve(self, request, external_id=None):
        status = request.query_params.get("status")
        return self.render_one(
            subscription_json(subscription_get(external_id=external_id, status=status))
        )

    def update(self, request, external_id=None):
        status = request.query_params.get("status")
        subscription = subscription_get(external_id=external_id, status=status)
        subscription = subscription_update(
            subscription=subscription, data=self.root_payload(request)
        )
        return self.render_one(subscription_json(subscription))

    def destroy(self, request, external_id=None):
        """Terminate the active subscription; ?status=pending cancels the pending one."""
        status = request.query_params.get("status")
        if status not in (None, "", "active", "pending"):
            raise ParseError("status must be active or pending")
        if status == "pending":
            subscription = subscription_get(external_id=external_id, status="pending")
            subscription = subscription_cancel(subscription=subscription)
        else:
            subscription = subscription_get(external_id=external_id, status="active")
            options = {
                key: request.query_params.get(key)
                for key in ("on_termination_credit_note", "on_termination_invoice")
            }
            subscription = subscription_terminate(subscription=subscription, options=options)
        return self.render_one(subscription_json(subscription))
