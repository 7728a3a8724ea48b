"""The payment endpoints of /customers (checkout_url, payments, payment_methods): mixed into
the customers' viewset in billing_site/api_urls.py (customers cannot import payments, a
higher layer)."""

from drf_spectacular.utils import inline_serializer
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.pagination import LagoPagination
from core.api.schema import Dict, Str, op
from core.errors import RuleViolation
from customers.selectors import customer_get
from payments.links import setup_url
from payments.providers.stripe import stripe_enabled
from payments.schemas import (
    CUSTOMER_PAYMENT_METHODS,
    CUSTOMER_PAYMENT_REQUESTS,
    CUSTOMER_PAYMENTS,
    DESTROY_PAYMENT_METHOD,
    SET_DEFAULT_PAYMENT_METHOD,
)
from payments.selectors import payment_requests_search, payments_search
from payments.serializers import payment_json, payment_method_json, payment_request_json
from payments.services.methods import (
    payment_method_destroy,
    payment_method_get,
    payment_method_set_default,
    payment_methods_live,
)

CHECKOUT_URL = op(
    "A link where the customer adds a payment method",
    inline_serializer(
        name="CheckoutUrl", fields={"customer": Dict(child=Str(), help_text="checkout_url")}
    ),
)


# The payment endpoints of CustomerViewSet (no docstring, as CustomerUsageActions in usage/api.py).
class CustomerCheckoutActions:
    @CUSTOMER_PAYMENTS
    @action(detail=True, methods=["get"], url_path="payments")
    def payments(self, request, external_id=None):
        """Lago's customer payments, with its invoice_id filter."""
        customer = customer_get(external_id=external_id)
        rows = payments_search(
            external_customer_id=customer.external_id,
            invoice_id=request.query_params.get("invoice_id", ""),
        )
        return customer_page(request, self, rows, payment_json, "payments")

    @CUSTOMER_PAYMENT_REQUESTS
    @action(detail=True, methods=["get"], url_path="payment_requests")
    def payment_requests(self, request, external_id=None):
        """Lago's customer payment requests, with its payment_status filter."""
        customer = customer_get(external_id=external_id)
        rows = payment_requests_search(
            external_customer_id=customer.external_id,
            payment_status=request.query_params.get("payment_status", ""),
        )
        return customer_page(request, self, rows, payment_request_json, "payment_requests")

    @CUSTOMER_PAYMENT_METHODS
    @action(detail=True, methods=["get"], url_path="payment_methods")
    def payment_methods(self, request, external_id=None):
        """The customer's payment methods, default first."""
        customer = customer_get(external_id=external_id)
        rows = payment_methods_live(customer).order_by("-is_default", "-created_at", "-id")
        return customer_page(request, self, rows, payment_method_json, "payment_methods")

    @SET_DEFAULT_PAYMENT_METHOD
    @action(
        detail=True,
        methods=["put"],
        url_path=r"payment_methods/(?P<method_id>[^/]+)/set_as_default",
    )
    def set_default_payment_method(self, request, external_id=None, method_id=None):
        customer = customer_get(external_id=external_id)
        method = payment_method_get(customer=customer, lago_id=method_id)
        method = payment_method_set_default(method=method)
        return self.render_one(payment_method_json(method), root="payment_method")

    @DESTROY_PAYMENT_METHOD
    @action(detail=True, methods=["delete"], url_path=r"payment_methods/(?P<method_id>[^/]+)")
    def destroy_payment_method(self, request, external_id=None, method_id=None):
        customer = customer_get(external_id=external_id)
        method = payment_method_get(customer=customer, lago_id=method_id)
        method = payment_method_destroy(method=method)
        return self.render_one(payment_method_json(method), root="payment_method")

    @CHECKOUT_URL
    @action(detail=True, methods=["post"], url_path="checkout_url")
    def checkout_url(self, request, external_id=None):
        """A link where the customer adds a card or mandate (Stripe customers only)."""
        customer = customer_get(external_id=external_id)
        if not stripe_enabled() or customer.payment_provider != "stripe":
            raise RuleViolation("no_payment_provider", "This customer does not pay via Stripe.")
        return self.render_one(  # Lago's CustomerCheckoutSerializer
            {
                "lago_customer_id": str(customer.lago_id),
                "external_customer_id": customer.external_id,
                "payment_provider": customer.payment_provider,
                "payment_provider_code": customer.payment_provider_code or None,
                "checkout_url": setup_url(customer, request),
            }
        )


def customer_page(request, view, rows, to_json, plural: str) -> Response:
    """A Lago list page under /customers/{id}/… (the viewset's own plural is "customers")."""
    paginator = LagoPagination()
    page = paginator.paginate_queryset(rows, request, view)
    return Response({plural: [to_json(row) for row in page], "meta": paginator.meta()})
