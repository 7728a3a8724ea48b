"""REST API v1 for customers and subscriptions (Lago wire format).

The customer endpoints that need a higher layer live there and are mixed into the routed
CustomerViewSet in billing_site/api_urls.py: usage (current_usage, projected_usage,
past_usage) in usage/api.py, checkout_url in payments/api_customers.py, portal_url in
portal/api.py."""

from datetime import timedelta

from drf_spectacular.utils import extend_schema_view
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError

from core.api.formats import iso
from core.api.viewsets import LagoViewSet
from customers.models import Customer, Subscription
from customers.schemas import CUSTOMER_VIEWS, SUBSCRIPTION_VIEWS
from customers.selectors import (
    customer_get,
    customer_timezone,
    subscription_current_period,
    subscription_get,
)
from customers.services import (
    customer_delete,
    customer_upsert,
    downgrade_date,
    subscription_cancel,
    subscription_create,
    subscription_terminate,
    subscription_update,
)
from plans.periods import local_date

ONE_SECOND = timedelta(seconds=1)  # Lago shows period ends as 23:59:59 of the last day

# --- rendering -------------------------------------------------------------------------------


def customer_json(customer: Customer) -> dict:
    return {
        "lago_id": str(customer.lago_id),
        "external_id": customer.external_id,
        "sequential_id": customer.pk,
        "name": customer.name or None,
        "firstname": customer.firstname or None,
        "lastname": customer.lastname or None,
        "customer_type": customer.customer_type or None,
        "email": customer.email or None,
        "phone": customer.phone or None,
        "url": customer.url or None,
        "legal_name": customer.legal_name or None,
        "legal_number": customer.legal_number or None,
        "tax_identification_number": customer.tax_identification_number or None,
        "address_line1": customer.address_line1 or None,
        "address_line2": customer.address_line2 or None,
        "city": customer.city or None,
        "state": customer.state or None,
        "zipcode": customer.zipcode or None,
        "country": customer.country or None,
        "currency": customer.currency or None,
        "timezone": customer.timezone or None,
        "applicable_timezone": customer_timezone(customer),
        "net_payment_term": customer.net_payment_term,
        "finalize_zero_amount_invoice": customer.finalize_zero_amount_invoice,
        "shipping_address": customer.shipping_address or None,
        "billing_configuration": {
            "invoice_grace_period": customer.invoice_grace_period,
            "payment_provider": customer.payment_provider or None,
            "payment_provider_code": customer.payment_provider_code or None,
            "provider_customer_id": customer.provider_customer_id or None,
            "sync_with_provider": customer.sync_with_provider,
            "document_locale": customer.document_locale or None,
        },
        "metadata": [
            {
                "lago_id": str(item.lago_id),
                "key": item.key,
                "value": item.value,
                "display_in_invoice": item.display_in_invoice,
                "created_at": iso(item.created_at),
            }
            for item in customer.metadata.all()
        ],
        "tax_codes": customer.tax_codes,
        "taxes": [],
        "error_details": [],
        "created_at": iso(customer.created_at),
        "updated_at": iso(customer.updated_at),
    }


def subscription_json(subscription: Subscription) -> dict:
    plan = subscription.plan
    period = subscription_current_period(subscription)
    previous = subscription.previous_subscription
    successor = (
        subscription.next_subscriptions.exclude(status=Subscription.Status.CANCELED)
        .select_related("plan__parent")
        .first()
    )
    return {
        "lago_id": str(subscription.lago_id),
        "external_id": subscription.external_id,
        "lago_customer_id": str(subscription.customer.lago_id),
        "external_customer_id": subscription.customer.external_id,
        "name": subscription.name or None,
        "plan_code": plan.catalog_plan.code,
        "plan_amount_cents": plan.amount_cents,
        "plan_amount_currency": plan.amount_currency,
        "status": subscription.status,
        "billing_time": subscription.billing_time,
        "subscription_at": iso(subscription.subscription_at),
        "started_at": iso(subscription.started_at),
        "ending_at": iso(subscription.ending_at),
        "terminated_at": iso(subscription.terminated_at),
        "canceled_at": iso(subscription.canceled_at),
        "trial_ended_at": iso(subscription.trial_ended_at),
        "created_at": iso(subscription.created_at),
        "previous_plan_code": previous.plan.catalog_plan.code if previous else None,
        "next_plan_code": successor.plan.catalog_plan.code if successor else None,
        "downgrade_plan_date": _downgrade_day(successor),
        "current_billing_period_started_at": iso(period[0]) if period else None,
        "current_billing_period_ending_at": iso(period[1] - ONE_SECOND) if period else None,
        "on_termination_credit_note": subscription.on_termination_credit_note or None,
        "on_termination_invoice": subscription.on_termination_invoice,
    }


def _downgrade_day(successor: Subscription | None) -> str | None:
    """Lago shows the date (customer's zone) a pending downgrade starts."""
    start = downgrade_date(successor) if successor else None
    if start is None:
        return None
    return local_date(start, customer_timezone(successor.customer)).isoformat()


# --- views -----------------------------------------------------------------------------------


@extend_schema_view(**CUSTOMER_VIEWS)
class CustomerViewSet(LagoViewSet):
    lago_root, lago_plural = "customer", "customers"
    lookup_field = "external_id"

    def get_queryset(self):
        return Customer.objects.live().prefetch_related("metadata").order_by("-created_at", "-id")

    def create(self, request):
        """Upsert by external_id; 200 for both create and update (Lago)."""
        customer, _ = customer_upsert(data=self.root_payload(request))
        return self.render_one(customer_json(customer))

    def list(self, request):
        return self.render_page(self.get_queryset(), customer_json)

    def retrieve(self, request, external_id=None):
        return self.render_one(customer_json(customer_get(external_id=external_id)))

    def destroy(self, request, external_id=None):
        customer = customer_delete(customer=customer_get(external_id=external_id))
        return self.render_one(customer_json(customer))

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
class SubscriptionViewSet(LagoViewSet):
    lago_root, lago_plural = "subscription", "subscriptions"
    lookup_field = "external_id"

    def get_queryset(self):
        rows = Subscription.objects.select_related(
            "customer", "plan__parent", "previous_subscription__plan__parent"
        ).order_by("-created_at", "-id")
        params = self.request.query_params
        if params.get("external_customer_id"):
            rows = rows.filter(customer__external_id=params["external_customer_id"])
        if params.get("plan_code"):
            rows = rows.filter(plan__code=params["plan_code"])
        statuses = params.getlist("status[]") or params.getlist("status")
        return rows.filter(status__in=statuses or [Subscription.Status.ACTIVE])

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
