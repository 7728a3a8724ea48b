"""OpenAPI declarations of the analytics and activity logs endpoints (documentation only; see
core/api/schema.py)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.api.schema import PAGE, DateTime, Int, List, Str, op, paginated, query, wrapped


def _rows(name: str, plural: str, **fields):
    row = inline_serializer(name=f"{name}Row", fields={"month": Str(), **fields})
    return inline_serializer(name=name, fields={plural: serializers.ListSerializer(child=row)})


CURRENCY = query("currency", description="ISO 4217; the organization's default otherwise")
MONTHS = query("months", OpenApiTypes.INT, description="The last N months (default 12)")
CUSTOMER = query("external_customer_id")
MONEY = {"amount_cents": Int(), "currency": Str()}

ANALYTICS_VIEWS = {
    "gross_revenue": op(
        "Gross revenue per month (the dashboard's revenue)",
        _rows("GrossRevenues", "gross_revenues", invoices_count=Int(), **MONEY),
        parameters=[CURRENCY, CUSTOMER, MONTHS],
    ),
    "invoiced_usage": op(
        "Invoiced usage per month and metric",
        _rows("InvoicedUsages", "invoiced_usages", code=Str(), **MONEY),
        parameters=[CURRENCY, MONTHS],
    ),
    "mrr": op(
        "MRR per month (the dashboard's MRR)",
        _rows("Mrrs", "mrrs", **MONEY),
        parameters=[CURRENCY, MONTHS],
    ),
    "overdue_balance": op(
        "Overdue balance per month of due date",
        _rows("OverdueBalances", "overdue_balances", lago_invoice_ids=List(child=Str()), **MONEY),
        parameters=[CURRENCY, CUSTOMER, MONTHS],
    ),
    "invoice_collection": op(
        "Finalized invoices per month and payment status",
        _rows(
            "InvoiceCollections",
            "invoice_collections",
            payment_status=Str(),
            invoices_count=Int(),
            **MONEY,
        ),
        parameters=[CURRENCY, MONTHS],
    ),
}


class ActivityLog(serializers.Serializer):
    activity_id = Str()
    activity_type = Str(help_text="<resource>.<action>: invoice.created, plan.updated")
    activity_source = Str(help_text="api, front or system")
    activity_object = serializers.JSONField(allow_null=True)
    activity_object_changes = serializers.JSONField(allow_null=True)
    user_email = Str(allow_null=True)
    resource_id = Str()
    resource_type = Str()
    external_customer_id = Str(allow_null=True)
    external_subscription_id = Str(allow_null=True)
    organization_id = Str()
    logged_at = DateTime()
    created_at = DateTime()


ACTIVITY_LOG_FILTERS = [
    query("from_date", OpenApiTypes.DATE),
    query("to_date", OpenApiTypes.DATE),
    query("activity_types[]"),
    query("activity_sources[]", description="api, front, system"),
    query("user_emails[]"),
    query("external_customer_id"),
    query("external_subscription_id"),
    query("resource_ids[]"),
    query("resource_types[]"),
]

ACTIVITY_LOG_VIEWS = {
    "list": op(
        "List activity logs (the audit trail)",
        paginated("ActivityLogPage", "activity_logs", ActivityLog),
        parameters=[*PAGE, *ACTIVITY_LOG_FILTERS],
    ),
    "retrieve": op(
        "Retrieve an activity log", wrapped("ActivityLogEnvelope", "activity_log", ActivityLog())
    ),
}
