"""CSV/XLSX exports of changelists (django-import-export): what the list shows after its
filters and search, with money in minor units and the currency beside it."""

from import_export import resources
from import_export.admin import ExportMixin


def resource_for(model, fields: list[str]):
    """A read-only resource exporting `fields` (related fields with __) in this order."""
    meta = type("Meta", (), {"model": model, "fields": fields, "export_order": fields})
    return type(f"{model.__name__}Export", (resources.ModelResource,), {"Meta": meta})


class Exportable(ExportMixin):
    """Adds "Export" to a changelist; export_fields names the columns."""

    export_fields: list[str] = []

    def get_export_resource_classes(self, request):
        return [resource_for(self.model, self.export_fields)]
