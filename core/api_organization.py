"""GET/PUT /api/v1/organizations: the seller's settings in Lago's Organization shape.

What belongs to higher layers (the webhook endpoint behind `webhook_url`) is mixed in at
billing_site/api_urls.py through two methods, `organization_extras` and `organization_apply`,
which run inside the update's transaction."""

from django.db import transaction
from drf_spectacular.utils import extend_schema_view

from core.api.formats import iso
from core.api.viewsets import LagoViewSet
from core.schemas import ORGANIZATION_VIEWS
from core.selectors import organization_get
from core.services import EMAIL_SETTINGS, organization_api_fields, organization_update


def organization_json(organization) -> dict:
    """Lago's OrganizationObject (webhook urls come from the mixed-in extras)."""
    text = lambda value: value or None  # noqa: E731 (Lago sends null for empty text)
    return {
        "lago_id": str(organization.lago_id),
        "name": organization.name,
        "created_at": iso(organization.created_at),
        "webhook_url": None,
        "webhook_urls": [],
        "country": text(organization.country),
        "default_currency": organization.default_currency,
        "address_line1": text(organization.address_line1),
        "address_line2": text(organization.address_line2),
        "state": text(organization.state),
        "zipcode": text(organization.zipcode),
        "email": text(organization.email),
        "city": text(organization.city),
        "legal_name": text(organization.legal_name),
        "legal_number": text(organization.legal_number),
        "timezone": organization.timezone,
        "net_payment_term": organization.net_payment_term,
        "email_settings": list(EMAIL_SETTINGS),
        "document_numbering": "per_organization",
        "document_number_prefix": organization.invoice_prefix,
        "tax_identification_number": text(organization.tax_identification_number),
        "finalize_zero_amount_invoice": organization.finalize_zero_amount_invoice,
        "billing_configuration": {
            "invoice_footer": text(organization.invoice_footer),
            "invoice_grace_period": organization.invoice_grace_period,
            "document_locale": organization.document_locale,
        },
    }


@extend_schema_view(**ORGANIZATION_VIEWS)
class OrganizationViewSet(LagoViewSet):
    lago_root = "organization"

    def organization_extras(self, organization) -> dict:
        """Fields higher layers add to the organization's JSON."""
        return {}

    def organization_apply(self, data: dict) -> None:
        """Fields of the body that higher layers apply (inside the update's transaction)."""

    def _render(self, organization):
        return self.render_one(
            organization_json(organization) | self.organization_extras(organization)
        )

    def retrieve(self, request):
        """GET /organizations: the organization (Lago's show)."""
        return self._render(organization_get())

    def update(self, request):
        """PUT /organizations: every field checked before anything is written."""
        data = self.root_payload(request)
        fields = organization_api_fields(data)
        with transaction.atomic():
            organization = organization_update(data=fields)
            self.organization_apply(data)
        return self._render(organization)
