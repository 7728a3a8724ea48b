"""The site's URLs plus the add-on API and POST /invoices (one-off), as the site will wire them
(the site registers them in api_urls.py and calls one_off_create_view from InvoiceViewSet)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from billing_site.urls import urlpatterns as site_urlpatterns
from invoices.api import InvoiceViewSet
from invoices.api_one_off import one_off_create_view
from plans.api_addons import AddOnViewSet


class OneOffInvoiceViewSet(InvoiceViewSet):
    """InvoiceViewSet with Lago's one-off create."""

    def create(self, request):
        return one_off_create_view(self, request)


router = SimpleRouter(trailing_slash=False)
router.register("add_ons", AddOnViewSet, basename="add_on")
router.register("invoices", OneOffInvoiceViewSet, basename="invoice")

urlpatterns = [
    path("api/v1/", include(router.urls)),
    path("", include(site_urlpatterns)),
]
