"""REST API v1 for customers and subscriptions (Lago wire format)."""

from datetime import timedelta

from django.utils import timezone
from rest_framework.decorators import action
from rest_framework.exceptions import ParseError
from rest_framework.response import Response

from core.api.formats import iso
from core.api.pagination import LagoPagination
from core.api.viewsets import LagoViewSet
from core.errors import NotFound
from customers.models import Customer, Subscription
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
from usage.reports import current_usage, past_periods, projected_usage, subscription_usage
from usage.usage_json import projected_usage_json, usage_json

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


class _ListAsQueryset(list):
    """A list with .count(), so the Lago paginator can page it."""

    def count(self, *args) -> int:
        return len(self)


# --- views -----------------------------------------------------------------------------------


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

    def _subscription(self, request, external_id: str) -> Subscription:
        customer = customer_get(external_id=external_id)
        subscription_id = request.query_params.get("external_subscription_id")
        if not subscription_id:
            raise NotFound("subscription")
        subscription = subscription_get(external_id=subscription_id)
        if subscription.customer_id != customer.pk:
            raise NotFound("subscription")
        return subscription

    @action(
        detail=True,
        methods=["delete"],
        url_path=r"applied_coupons/(?P<applied_coupon_id>[^/]+)",
    )
    def applied_coupon_destroy(self, request, external_id=None, applied_coupon_id=None):
        """Remove a coupon from a customer (terminates the applied coupon)."""
        from customers.api_coupons import applied_coupon_destroy_view

        return applied_coupon_destroy_view(self, request, external_id, applied_coupon_id)

    @action(detail=True, methods=["post"], url_path="checkout_url")
    def checkout_url(self, request, external_id=None):
        """A link where the customer adds a card or mandate (Stripe customers only)."""
        from core.errors import RuleViolation
        from payments.links import setup_url
        from payments.stripe_client import stripe_enabled

        customer = customer_get(external_id=external_id)
        if not stripe_enabled() or customer.payment_provider != "stripe":
            raise RuleViolation("no_payment_provider", "This customer does not pay via Stripe.")
        return self.render_one({"checkout_url": setup_url(customer, request)})

    @action(detail=True, methods=["get"], url_path="portal_url")
    def portal_url(self, request, external_id=None):
        """Lago's embeddable portal link for this customer, valid 12 hours."""
        from portal.access import portal_url

        customer = customer_get(external_id=external_id)
        return self.render_one({"portal_url": portal_url(customer)})

    @action(detail=True, methods=["get"], url_path="current_usage")
    def current_usage(self, request, external_id=None):
        """Usage of the current period, priced (taxes come with the tax capability)."""
        subscription = self._subscription(request, external_id)
        if subscription.status != Subscription.Status.ACTIVE:
            raise NotFound("subscription")
        return Response({"customer_usage": usage_json(current_usage(subscription))})

    @action(detail=True, methods=["get"], url_path="projected_usage")
    def projected_usage(self, request, external_id=None):
        """The current period extrapolated to its end at the pace so far."""
        subscription = self._subscription(request, external_id)
        if subscription.status != Subscription.Status.ACTIVE:
            raise NotFound("subscription")
        now = timezone.now()
        current = current_usage(subscription, now)
        body = projected_usage_json(current, projected_usage(current, now))
        return Response({"customer_projected_usage": body})

    @action(detail=True, methods=["get"], url_path="past_usage")
    def past_usage(self, request, external_id=None):
        """Closed periods, newest first, paginated like every list."""
        subscription = self._subscription(request, external_id)
        bounds = past_periods(subscription)
        paginator = LagoPagination()
        page = paginator.paginate_queryset(_ListAsQueryset(bounds), request, self)
        reports = [usage_json(subscription_usage(subscription, lo, hi)) for lo, hi in page]
        return Response({"usage_periods": reports, "meta": paginator.meta()})


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
