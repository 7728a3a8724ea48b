"""REST API v1 for add-ons (Lago wire format, id = code)."""

from drf_spectacular.utils import extend_schema_view

from core.api.formats import iso
from core.api.viewsets import LagoViewSet
from plans.addons import add_on_create, add_on_delete, add_on_get, add_on_update
from plans.models import AddOn
from plans.schemas import ADD_ON_VIEWS


def add_on_json(add_on: AddOn) -> dict:
    return {
        "lago_id": str(add_on.lago_id),
        "name": add_on.name,
        "code": add_on.code,
        "invoice_display_name": add_on.invoice_display_name or None,
        "description": add_on.description or None,
        "amount_cents": add_on.amount_cents,
        "amount_currency": add_on.amount_currency,
        "created_at": iso(add_on.created_at),
        "tax_codes": add_on.tax_codes,
        "taxes": [],
    }


@extend_schema_view(**ADD_ON_VIEWS)
class AddOnViewSet(LagoViewSet):
    lago_root, lago_plural = "add_on", "add_ons"
    lookup_field = "code"

    def get_queryset(self):
        return AddOn.objects.live().order_by("-created_at", "-id")

    def create(self, request):
        return self.render_one(add_on_json(add_on_create(data=self.root_payload(request))))

    def list(self, request):
        return self.render_page(self.get_queryset(), add_on_json)

    def retrieve(self, request, code=None):
        return self.render_one(add_on_json(add_on_get(code=code)))

    def update(self, request, code=None):
        add_on = add_on_update(add_on=add_on_get(code=code), data=self.root_payload(request))
        return self.render_one(add_on_json(add_on))

    def destroy(self, request, code=None):
        return self.render_one(add_on_json(add_on_delete(add_on=add_on_get(code=code))))
