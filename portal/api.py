"""GET /api/v1/customers/{external_id}/portal_url: mixed into the customers' viewset in
billing_site/api_urls.py (customers cannot import the portal, a higher layer)."""

from drf_spectacular.utils import inline_serializer
from rest_framework.decorators import action

from core.api.schema import Dict, Str, op
from customers.selectors import customer_get
from portal import access

PORTAL_URL = op(
    "The customer's portal link",
    inline_serializer(name="PortalUrl", fields={"customer": Dict(child=Str())}),
)


# The portal endpoint of CustomerViewSet (no docstring, as CustomerUsageActions in usage/api.py).
class CustomerPortalActions:
    @PORTAL_URL
    @action(detail=True, methods=["get"], url_path="portal_url")
    def portal_url(self, request, external_id=None):
        """Lago's embeddable portal link for this customer, valid 12 hours."""
        customer = customer_get(external_id=external_id)
        return self.render_one({"portal_url": access.portal_url(customer)})
