"""OpenAPI declarations of the analytics and activity logs endpoints (documentation only; see
core/api/schema.py)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.api.schema import Int, List, Str, op, query


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
