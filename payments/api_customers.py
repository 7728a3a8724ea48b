"""POST /api/v1/customers/{external_id}/checkout_url: mixed into the customers' viewset in
billing_site/api_urls.py (customers cannot import payments, a higher layer)."""

from drf_spectacular.utils import inline_serializer
from rest_framework.decorators import action

from core.api.schema import PAGE, Dict, List, Str, op, query
from core.errors import RuleViolation, ValidationFailed
from core.validation import is_uuid
from customers.selectors import customer_get
from payments.links import setup_url
from payments.models import Payment
from payments.providers.stripe import stripe_enabled
from payments.serializers import payment_api_json

CHECKOUT_URL = op(
    "A link where the customer adds a payment method",
    inline_serializer(
        name="CheckoutUrl", fields={"customer": Dict(child=Str(), help_text="checkout_url")}
    ),
)


# The payment endpoint of CustomerViewSet (no docstring, as CustomerUsageActions in usage/api.py).
class CustomerCheckoutActions:
    @CHECKOUT_URL
    @action(detail=True, methods=["post"], url_path="checkout_url")
    def checkout_url(self, request, external_id=None):
        """A link where the customer adds a card or mandate (Stripe customers only)."""
        customer = customer_get(external_id=external_id)
        if not stripe_enabled() or customer.payment_provider != "stripe":
            raise RuleViolation("no_payment_provider", "This customer does not pay via Stripe.")
        return self.render_one({"checkout_url": setup_url(customer, request)})


CUSTOMER_PAYMENTS = op(
    "List a customer's payments",
    inline_serializer(
        name="CustomerPaymentPage", fields={"payments": List(child=Dict()), "meta": Dict()}
    ),
    parameters=[*PAGE, query("invoice_id", description="the invoice's lago_id")],
)


# GET /customers/{external_id}/payments (no docstring, as CustomerUsageActions in usage/api.py).
class CustomerPaymentActions:
    @CUSTOMER_PAYMENTS
    @action(detail=True, methods=["get"], url_path="payments")
    def payments(self, request, external_id=None):
        """The customer's payments, newest first; ?invoice_id= keeps one invoice's."""
        customer = customer_get(external_id=external_id)
        rows = Payment.objects.filter(customer=customer).select_related("invoice", "customer")
        invoice_id = request.query_params.get("invoice_id")
        if invoice_id:
            if not is_uuid(invoice_id):
                raise ValidationFailed({"invoice_id": ["invalid_format"]})
            rows = rows.filter(invoice__lago_id=invoice_id)
        rows = rows.order_by("-created_at", "-id")
        return self.render_page(rows, payment_api_json, plural="payments")
