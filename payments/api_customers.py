"""POST /api/v1/customers/{external_id}/checkout_url: mixed into the customers' viewset in
billing_site/api_urls.py (customers cannot import payments, a higher layer)."""

from drf_spectacular.utils import inline_serializer
from rest_framework.decorators import action

from core.api.schema import Dict, Str, op
from core.errors import RuleViolation
from customers.selectors import customer_get
from payments.links import setup_url
from payments.stripe_client import stripe_enabled

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
        return self.render_one(  # Lago's CustomerCheckoutSerializer
            {
                "lago_customer_id": str(customer.lago_id),
                "external_customer_id": customer.external_id,
                "payment_provider": customer.payment_provider,
                "payment_provider_code": customer.payment_provider_code or None,
                "checkout_url": setup_url(customer, request),
            }
        )
