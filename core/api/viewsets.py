"""Base viewset for Lago resources: root-key envelopes, 200 on create/destroy, list meta."""

from rest_framework import viewsets
from rest_framework.exceptions import ParseError
from rest_framework.response import Response


def drop_nulls(data: dict) -> dict:
    """Lago clients send null for unset fields: treat null as absent (top level only)."""
    return {key: value for key, value in data.items() if value is not None}


class LagoViewSet(viewsets.GenericViewSet):
    """Subclasses set lago_root ("customer"), lago_plural ("customers") and lookup_field."""

    lago_root: str = ""
    lago_plural: str = ""
    lookup_value_regex = "[^/]+"

    @property
    def lago_resource(self) -> str:
        return self.lago_root

    def root_payload(self, request, root: str | None = None) -> dict:
        """The object under the root key; a missing or non-object root is a 400 like Lago's."""
        root = root or self.lago_root
        data = request.data
        if not isinstance(data, dict) or not isinstance(data.get(root), dict):
            raise ParseError(f"param is missing or the value is empty: {root}")
        return data[root]

    def render_one(self, data: dict, status: int = 200, root: str | None = None) -> Response:
        return Response({root or self.lago_root: data}, status=status)

    def render_page(self, queryset, to_json, plural: str | None = None) -> Response:
        """Paginate `queryset` and render each row with `to_json(row)`, under `plural` when a
        route lists another resource than the viewset's (GET /customers/{id}/invoices)."""
        page = self.paginate_queryset(queryset)
        data = [to_json(row) for row in page]
        if plural:
            return Response({plural: data, "meta": self.paginator.meta()})
        return self.get_paginated_response(data)
