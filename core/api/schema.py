"""Building blocks for the OpenAPI schema at /api/v1/schema (documentation only).

The views parse request.data by hand (Lago's wire format, services validate), so drf-spectacular
cannot see what they accept. Each app describes its operations in its own `schemas.py` with these
helpers and attaches them with one `extend_schema_view` decorator per viewset; nothing here runs
on a request. The schema lets a fuzzer (`make fuzz`) generate real payloads.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer, set_override
from rest_framework import serializers


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer <api key>` (core.api.authentication)."""

    target_class = "core.api.authentication.ApiKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer"}


class LagoError(serializers.Serializer):
    """Lago's error body (core.api.exceptions.error_body)."""

    status = serializers.IntegerField()
    error = serializers.CharField()
    code = serializers.CharField(required=False)
    error_details = serializers.DictField(required=False)


class PageMeta(serializers.Serializer):
    current_page = serializers.IntegerField()
    next_page = serializers.IntegerField(allow_null=True)
    prev_page = serializers.IntegerField(allow_null=True)
    total_pages = serializers.IntegerField()
    total_count = serializers.IntegerField()


ERRORS = {400: LagoError, 401: LagoError, 404: LagoError, 422: LagoError}

PAGE = [
    OpenApiParameter("page", OpenApiTypes.INT, description="Page number, from 1."),
    OpenApiParameter("per_page", OpenApiTypes.INT, description="Rows per page (max 1000)."),
]


def query(name: str, kind=OpenApiTypes.STR, description: str = "", **extra) -> OpenApiParameter:
    """One query-string parameter."""
    return OpenApiParameter(name, kind, OpenApiParameter.QUERY, description=description, **extra)


def required_query(name: str, description: str = "") -> OpenApiParameter:
    return query(name, description=description, required=True)


_WRAPPERS: dict = {}


def wrapped(name: str, root: str, body):
    """{root: body}: Lago wraps every object under its resource key (one component per name)."""
    if name not in _WRAPPERS:
        _WRAPPERS[name] = inline_serializer(name=name, fields={root: body})
    return _WRAPPERS[name]


def paginated(name: str, plural: str, item):
    """{plural: [item], meta: {...}}: a list page (never re-wrapped by the paginator)."""
    envelope = inline_serializer(name=name, fields={plural: item(many=True), "meta": PageMeta()})
    set_override(envelope, "many", False)
    return envelope


def op(summary: str, ok=None, request=None, parameters=(), operation_id=None, **kwargs):
    """One operation: its body (if any), query parameters, 200 answer and error answers."""
    return extend_schema(
        summary=summary,
        request=request,
        parameters=list(parameters),
        responses={200: ok, **ERRORS},
        operation_id=operation_id,
        **kwargs,
    )


def crud_ops(
    label: str, root: str, plural: str, item, body, filters=(), lookup=True, skip=()
) -> dict:
    """The usual create/list/retrieve/update/destroy operations of a Lago resource."""
    one = wrapped(f"{item.__name__}Envelope", root, item())
    request = wrapped(f"{body.__name__}Envelope", root, body())
    ops = {
        "create": op(f"Create a {label}", one, request),
        "list": op(
            f"List {label}s",
            paginated(f"{item.__name__}Page", plural, item),
            parameters=[*PAGE, *filters],
        ),
    }
    if lookup:
        ops |= {
            "retrieve": op(f"Retrieve a {label}", one),
            "update": op(f"Update a {label}", one, request),
            "destroy": op(f"Delete a {label}", one),
        }
    return {name: value for name, value in ops.items() if name not in skip}


# Shorthands for the field declarations of the app schemas.
Str = serializers.CharField
Int = serializers.IntegerField
Bool = serializers.BooleanField
Dec = serializers.DecimalField
Float = serializers.FloatField
DateTime = serializers.DateTimeField
Date = serializers.DateField
Dict = serializers.DictField
Json = serializers.JSONField
List = serializers.ListField
Choice = serializers.ChoiceField
UUID = serializers.UUIDField


def decimal_string(**kwargs) -> serializers.CharField:
    """A decimal sent as a string ("0.0125"), Lago's way for prices and credits."""
    kwargs.setdefault("help_text", 'Decimal as a string, e.g. "12.5"')
    return serializers.CharField(**kwargs)


def codes(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(), **kwargs)
