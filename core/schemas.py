"""OpenAPI declarations of core's own endpoints (documentation only; see core/api/schema.py)."""

from rest_framework import serializers

from core.api.schema import Bool, Dict, Int, List, Str, op, wrapped


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
