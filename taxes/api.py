"""REST API v1 for taxes (Lago wire format)."""

from drf_spectacular.utils import extend_schema_view

from core.api.formats import iso
from core.api.viewsets import LagoViewSet
from core.errors import NotFound
from taxes.models import Tax
from taxes.schemas import TAX_VIEWS
from taxes.services import tax_create, tax_delete, tax_update


def tax_json(tax: Tax) -> dict:
    return {
        "lago_id": str(tax.lago_id),
        "name": tax.name,
        "code": tax.code,
        "rate": float(tax.rate),
        "description": tax.description or None,
        "applied_to_organization": tax.applied_to_organization,
        "created_at": iso(tax.created_at),
    }


def _tax(code: str) -> Tax:
    tax = Tax.objects.filter(code=code).first()
    if tax is None:
        raise NotFound("tax")
    return tax


@extend_schema_view(**TAX_VIEWS)
class TaxViewSet(LagoViewSet):
    lago_root, lago_plural = "tax", "taxes"
    lookup_field = "code"

    def get_queryset(self):
        return Tax.objects.order_by("code")

    def create(self, request):
        return self.render_one(tax_json(tax_create(data=self.root_payload(request))))

    def list(self, request):
        return self.render_page(self.get_queryset(), tax_json)

    def retrieve(self, request, code=None):
        return self.render_one(tax_json(_tax(code)))

    def update(self, request, code=None):
        tax = tax_update(tax=_tax(code), data=self.root_payload(request))
        return self.render_one(tax_json(tax))

    def destroy(self, request, code=None):
        return self.render_one(tax_json(tax_delete(tax=_tax(code))))
