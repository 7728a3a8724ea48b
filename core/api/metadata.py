"""OPTIONS for every API route without serializer introspection (our viewsets have none)."""

from rest_framework.metadata import BaseMetadata


class LagoMetadata(BaseMetadata):
    """The route's name, the allowed methods and the media types; DRF's SimpleMetadata asks
    each view for a serializer class, which Lago-shaped viewsets do not declare."""

    def determine_metadata(self, request, view) -> dict:
        return {
            "name": view.get_view_name(),
            "allowed_methods": sorted(view.allowed_methods),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
        }
