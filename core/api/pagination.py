"""Lago's list envelope: {"<plural>": [...], "meta": {current_page, next_page, ...}}."""

import math
import re

from rest_framework.pagination import BasePagination
from rest_framework.response import Response

_DIGITS = re.compile(r"[0-9]+")
_MAX_DIGITS = 18


class LagoPagination(BasePagination):
    """page/per_page (default 100, max 1000), read as Lago's kaminari reads them: anything not
    a positive integer is the default (page 1, per_page 100). A page past the last one is an
    empty page clamped to total_pages + 1, so `?page=99999999999999999999` neither reaches
    the database as an OFFSET out of range nor echoes an integer JSON cannot carry."""

    default_per_page = 100
    max_per_page = 1000

    def _int_param(self, request, name: str, default: int) -> int:
        raw = request.query_params.get(name, "").lstrip("0")
        if not _DIGITS.fullmatch(raw):
            return default
        return int(raw[:_MAX_DIGITS])  # longer is past any last page anyway

    def paginate_queryset(self, queryset, request, view=None):
        self.view = view
        self.per_page = min(
            self._int_param(request, "per_page", self.default_per_page), self.max_per_page
        )
        self.total_count = queryset.count()
        last_page = math.ceil(self.total_count / self.per_page)
        self.page = min(self._int_param(request, "page", 1), last_page + 1)
        if self.page > last_page:
            return []
        start = (self.page - 1) * self.per_page
        return list(queryset[start : start + self.per_page])

    def meta(self) -> dict:
        if self.total_count == 0:
            return {
                "current_page": 0,
                "next_page": None,
                "prev_page": None,
                "total_pages": 0,
                "total_count": 0,
            }
        total_pages = math.ceil(self.total_count / self.per_page)
        return {
            "current_page": self.page,
            "next_page": self.page + 1 if self.page < total_pages else None,
            "prev_page": self.page - 1 if self.page > 1 else None,
            "total_pages": total_pages,
            "total_count": self.total_count,
        }

    def get_paginated_response(self, data):
        plural = getattr(self.view, "lago_plural", "results")
        return Response({plural: data, "meta": self.meta()})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {"meta": {"type": "object"}, "items": schema},
        }
