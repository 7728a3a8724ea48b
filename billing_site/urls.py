"""Root URLs: admin, customer portal, /api/v1 (Lago-compatible), health, landing page."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.views import healthz, landing
from invoices.views import credit_note_pdf, invoice_pdf
from payments.views import payment_method_setup, stripe_webhook

urlpatterns = [
    path("", landing, name="landing"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("portal/", include("portal.urls")),
    path("webhooks/stripe", stripe_webhook, name="stripe-webhook"),
    path("billing/payment-method/<str:token>", payment_method_setup, name="payment-method-setup"),
    path("documents/invoices/<uuid:lago_id>.pdf", invoice_pdf, name="invoice-pdf"),
    path("documents/credit-notes/<uuid:lago_id>.pdf", credit_note_pdf, name="credit-note-pdf"),
    path("api/v1/schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/docs", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("billing_site.api_urls")),
]

handler404 = "core.api.handlers.not_found"
handler500 = "core.api.handlers.server_error"
