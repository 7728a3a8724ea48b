"""OpenAPI declarations of core's own endpoints: the organization and the API logs
(documentation only; see core/api/schema.py)."""

from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers

from core.api.schema import (
    PAGE,
    Bool,
    DateTime,
    Dict,
    Int,
    List,
    Str,
    op,
    paginated,
    query,
    wrapped,
)


class OrganizationInput(serializers.Serializer):
    webhook_url = Str(required=False, allow_null=True)
    country = Str(required=False, allow_null=True)
    default_currency = Str(required=False)
    address_line1 = Str(required=False, allow_null=True)
    address_line2 = Str(required=False, allow_null=True)
    state = Str(required=False, allow_null=True)
    zipcode = Str(required=False, allow_null=True)
    email = Str(required=False, allow_null=True)
    city = Str(required=False, allow_null=True)
    legal_name = Str(required=False, allow_null=True)
    legal_number = Str(required=False, allow_null=True)
    document_numbering = Str(required=False, help_text="per_organization only")
    document_number_prefix = Str(required=False)
    net_payment_term = Int(required=False)
    tax_identification_number = Str(required=False, allow_null=True)
    timezone = Str(required=False)
    email_settings = List(child=Str(), required=False)
    billing_configuration = Dict(required=False)
    finalize_zero_amount_invoice = Bool(required=False)


class Organization(OrganizationInput):
    lago_id = Str()
    name = Str()
    created_at = Str()
    webhook_urls = List(child=Str())


_ONE = wrapped("OrganizationEnvelope", "organization", Organization())
ORGANIZATION_VIEWS = {
    "retrieve": op("The organization's settings", _ONE),
    "update": op(
        "Update the organization's settings",
        _ONE,
        wrapped("OrganizationInputEnvelope", "organization", OrganizationInput()),
    ),
}


class ApiLog(serializers.Serializer):
    request_id = Str()
    client = Str()
    http_method = Str()
    http_status = Int()
    request_origin = Str()
    request_path = Str()
    request_body = Str(help_text="Redacted, truncated to API_LOG_MAX_BODY_CHARS")
    request_response = Str(help_text="Redacted, truncated to API_LOG_MAX_BODY_CHARS")
    api_version = Str()
    logged_at = DateTime()
    created_at = DateTime()


API_LOG_FILTERS = [
    query("from_date", OpenApiTypes.DATE),
    query("to_date", OpenApiTypes.DATE),
    query("http_methods[]", description="post, put, patch, delete"),
    query("http_statuses[]", description="A status (404), succeeded or failed"),
    query("api_version"),
    query("request_paths", description="A path; * matches anything"),
]

API_LOG_VIEWS = {
    "list": op(
        "List API logs (write requests, not /events)",
        paginated("ApiLogPage", "api_logs", ApiLog),
        parameters=[*PAGE, *API_LOG_FILTERS],
    ),
    "retrieve": op("Retrieve an API log", wrapped("ApiLogEnvelope", "api_log", ApiLog())),
}
