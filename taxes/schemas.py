"""OpenAPI declarations of the taxes endpoints (documentation only; see core/api/schema.py)."""

from rest_framework import serializers

from core.api.schema import Bool, DateTime, Str, crud_ops, decimal_string


class TaxInput(serializers.Serializer):
    name = Str()
    code = Str()
    rate = decimal_string(help_text='Percent, e.g. "20.0"')
    description = Str(required=False, allow_null=True)
    applied_to_organization = Bool(required=False)


class Tax(TaxInput):
    rate = serializers.FloatField()
    lago_id = Str()
    created_at = DateTime()


TAX_VIEWS = crud_ops("tax", "tax", "taxes", Tax, TaxInput)
