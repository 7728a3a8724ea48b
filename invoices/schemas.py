"""OpenAPI declarations of the invoices and credit notes endpoints (documentation only; see
core/api/schema.py)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers

from core.api.schema import (
    PAGE,
    Bool,
    Choice,
    Date,
    DateTime,
    Dict,
    Int,
    List,
    Str,
    codes,
    crud_ops,
    decimal_string,
    op,
    paginated,
    query,
    wrapped,
)

INVOICE_STATUSES = ["draft", "finalized", "voided"]
PAYMENT_STATUSES = ["pending", "succeeded", "failed"]

# --- invoices --------------------------------------------------------------------------------


class Fee(serializers.Serializer):
    lago_id = Str()
    lago_invoice_id = Str()
    external_subscription_id = Str(allow_null=True)
    amount_cents = Int()
    amount_currency = Str()
    precise_amount = decimal_string()
    taxes_amount_cents = Int()
    total_amount_cents = Int()
    units = decimal_string()
    events_count = Int()
    from_date = DateTime(allow_null=True)
    to_date = DateTime(allow_null=True)
    item = Dict()


class Invoice(serializers.Serializer):
    lago_id = Str()
    sequential_id = Int(allow_null=True)
    number = Str()
    issuing_date = Date()
    payment_due_date = Date()
    invoice_type = Str()
    status = Choice(INVOICE_STATUSES)
    payment_status = Choice(PAYMENT_STATUSES)
    payment_overdue = Bool()
    currency = Str()
    fees_amount_cents = Int()
    taxes_amount_cents = Int()
    total_amount_cents = Int()
    customer = Dict()
    fees = Fee(many=True)
    metadata = List(child=Dict())
    file_url = Str(allow_null=True)


class OneOffFeeInput(serializers.Serializer):
    add_on_code = Str()
    units = decimal_string(required=False)
    unit_amount_cents = Int(required=False)
    description = Str(required=False, allow_null=True)
    invoice_display_name = Str(required=False, allow_null=True)
    from_datetime = DateTime(required=False, allow_null=True)
    to_datetime = DateTime(required=False, allow_null=True)
    tax_codes = codes(required=False)


class OneOffInvoiceInput(serializers.Serializer):
    external_customer_id = Str()
    currency = Str(required=False)
    fees = OneOffFeeInput(many=True)


class InvoiceMetadataInput(serializers.Serializer):
    id = Str(required=False, allow_null=True)
    key = Str()
    value = Str()


class InvoiceUpdateInput(serializers.Serializer):
    payment_status = Choice(PAYMENT_STATUSES, required=False)
    metadata = InvoiceMetadataInput(many=True, required=False)


class InvoiceVoidInput(serializers.Serializer):
    generate_credit_note = Bool(required=False)
    credit_amount = Int(required=False, help_text="cents")
    refund_amount = Int(required=False, help_text="cents")


INVOICE_ONE = wrapped("InvoiceEnvelope", "invoice", Invoice())


class PreviewSubscriptionsInput(serializers.Serializer):
    external_ids = List(child=Str())
    plan_code = Str(required=False)
    terminated_at = DateTime(required=False)


class InvoicePreviewInput(serializers.Serializer):
    customer = Dict()
    plan_code = Str(required=False)
    subscription_at = DateTime(required=False)
    billing_time = Choice(["calendar", "anniversary"], required=False)
    subscriptions = PreviewSubscriptionsInput(required=False)


# --- credit notes ----------------------------------------------------------------------------


class CreditNoteItemInput(serializers.Serializer):
    fee_id = Str(help_text="The fee's lago_id")
    amount_cents = Int()


class CreditNoteInput(serializers.Serializer):
    invoice_id = serializers.UUIDField(help_text="The invoice's lago_id")
    reason = Choice(
        [
            "duplicated_charge",
            "product_unsatisfactory",
            "order_change",
            "order_cancellation",
            "fraudulent_charge",
            "other",
        ],
        required=False,
    )
    description = Str(required=False, allow_null=True)
    credit_amount_cents = Int(required=False)
    refund_amount_cents = Int(required=False)
    offset_amount_cents = Int(required=False)
    items = CreditNoteItemInput(many=True)
    metadata = Dict(required=False)


class CreditNoteUpdateInput(serializers.Serializer):
    refund_status = Choice(["pending", "succeeded", "failed"], required=False)
    metadata = Dict(required=False)


class CreditNoteEstimateInput(serializers.Serializer):
    invoice_id = serializers.UUIDField()
    items = CreditNoteItemInput(many=True)


class CreditNote(serializers.Serializer):
    lago_id = Str()
    sequential_id = Int()
    number = Str()
    lago_invoice_id = Str()
    invoice_number = Str()
    issuing_date = Date()
    credit_status = Str(allow_null=True)
    refund_status = Str(allow_null=True)
    reason = Str()
    currency = Str()
    total_amount_cents = Int()
    taxes_amount_cents = Int()
    balance_amount_cents = Int()
    items = List(child=Dict())
    file_url = Str(required=False, allow_null=True)


class CreditNoteEstimate(serializers.Serializer):
    lago_invoice_id = Str()
    currency = Str()
    taxes_amount_cents = Int()
    max_creditable_amount_cents = Int()
    max_refundable_amount_cents = Int()
    items = List(child=Dict())


CREDIT_NOTE_ONE = wrapped("CreditNoteEnvelope", "credit_note", CreditNote())

# --- the operations, per viewset ---------------------------------------------------------------

INVOICE_FILTERS = [
    query("status", description="draft, finalized or voided"),
    query("payment_status", description="pending, succeeded or failed"),
    query("invoice_type"),
    query("currency"),
    query("payment_overdue", OpenApiTypes.BOOL),
    query("issuing_date_from", OpenApiTypes.DATE),
    query("issuing_date_to", OpenApiTypes.DATE),
    query("amount_from", OpenApiTypes.INT, description="total_amount_cents at least"),
    query("amount_to", OpenApiTypes.INT, description="total_amount_cents at most"),
]
CREDIT_NOTE_FILTERS = [
    query("reason"),
    query("credit_status", description="available, consumed or voided"),
    query("refund_status", description="pending, succeeded or failed"),
    query("currency"),
    query("invoice_number"),
    query("issuing_date_from", OpenApiTypes.DATE),
    query("issuing_date_to", OpenApiTypes.DATE),
    query("amount_from", OpenApiTypes.INT, description="total_amount_cents at least"),
    query("amount_to", OpenApiTypes.INT, description="total_amount_cents at most"),
]

INVOICE_VIEWS = {
    **crud_ops(
        "invoice",
        "invoice",
        "invoices",
        Invoice,
        OneOffInvoiceInput,
        filters=[query("external_customer_id"), *INVOICE_FILTERS],
    ),
    "destroy": op("Delete a draft invoice", INVOICE_ONE),
    "retry": op("Retry an invoice whose finalization failed", INVOICE_ONE),
    "lose_dispute": op("Mark an invoice's payment dispute as lost", INVOICE_ONE),
    "preview": op("Preview an invoice (nothing saved)", INVOICE_ONE, InvoicePreviewInput),
    "create": op(
        "Issue a one-off invoice (add-on fees)",
        INVOICE_ONE,
        wrapped("OneOffInvoiceInputEnvelope", "invoice", OneOffInvoiceInput()),
    ),
    "update": op(
        "Update an invoice's metadata or payment status",
        INVOICE_ONE,
        wrapped("InvoiceUpdateInputEnvelope", "invoice", InvoiceUpdateInput()),
    ),
    "finalize": op("Finalize a draft invoice", INVOICE_ONE),
    "refresh": op("Recompute a draft invoice", INVOICE_ONE),
    "void": op("Void an invoice", INVOICE_ONE, InvoiceVoidInput),
    "download": op("A signed link to the invoice's PDF", INVOICE_ONE),
}

_METADATA_BODY = inline_serializer(
    name="CreditNoteMetadataInput", fields={"metadata": Dict(child=Str(allow_null=True))}
)
_METADATA_ONE = inline_serializer(name="CreditNoteMetadataEnvelope", fields={"metadata": Dict()})

CREDIT_NOTE_VIEWS = {
    **crud_ops(
        "credit note",
        "credit_note",
        "credit_notes",
        CreditNote,
        CreditNoteInput,
        filters=[query("external_customer_id"), *CREDIT_NOTE_FILTERS],
        lookup=False,
    ),
    "retrieve": op("Retrieve a credit note", CREDIT_NOTE_ONE),
    "update": op(
        "Update a credit note's metadata or refund status",
        CREDIT_NOTE_ONE,
        wrapped("CreditNoteUpdateInputEnvelope", "credit_note", CreditNoteUpdateInput()),
    ),
    "void": op("Void a credit note's remaining credit", CREDIT_NOTE_ONE),
    "download": op("A signed link to the credit note's PDF", CREDIT_NOTE_ONE),
    "metadata": [
        op("Replace a credit note's metadata", _METADATA_ONE, _METADATA_BODY, methods=["POST"]),
        op("Merge into a credit note's metadata", _METADATA_ONE, _METADATA_BODY, methods=["PATCH"]),
        op("Clear a credit note's metadata, or one key", _METADATA_ONE, methods=["DELETE"]),
    ],
    "estimate": op(
        "Estimate a credit note (nothing saved)",
        wrapped("CreditNoteEstimateEnvelope", "estimated_credit_note", CreditNoteEstimate()),
        wrapped("CreditNoteEstimateInputEnvelope", "credit_note", CreditNoteEstimateInput()),
    ),
}

# Served by payments (payments/api.py), which adds the action to the invoice routes.
INVOICE_RETRY_PAYMENT_VIEW = {
    "retry_payment": op("Collect an invoice now", INVOICE_ONE),
    "payment_url": op(
        "A provider page where the invoice is paid",
        inline_serializer(
            name="InvoicePaymentUrl",
            fields={"invoice_payment_details": Dict(child=Str())},
        ),
    ),
}


# Served under /customers/{external_id} (invoices/api_customers.py, mixed in at api_urls).
CUSTOMER_INVOICES = op(
    "List a customer's invoices",
    paginated("CustomerInvoicePage", "invoices", Invoice),
    parameters=[*PAGE, *INVOICE_FILTERS],
)
CUSTOMER_CREDIT_NOTES = op(
    "List a customer's credit notes",
    paginated("CustomerCreditNotePage", "credit_notes", CreditNote),
    parameters=[*PAGE, *CREDIT_NOTE_FILTERS],
)


# Served under /subscriptions/{external_id} (invoices/api_subscriptions.py, mixed in at api_urls).
class LifetimeUsage(serializers.Serializer):
    lago_id = Str()
    lago_subscription_id = Str()
    external_subscription_id = Str()
    external_historical_usage_amount_cents = Int()
    invoiced_usage_amount_cents = Int()
    current_usage_amount_cents = Int()
    from_datetime = DateTime(allow_null=True)
    to_datetime = DateTime()
    usage_thresholds = List(child=Dict(), required=False)


class LifetimeUsageInput(serializers.Serializer):
    external_historical_usage_amount_cents = Int(min_value=0)


def _stacked(*decorators):
    def apply(function):
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


_LIFETIME_ONE = wrapped("LifetimeUsageEnvelope", "lifetime_usage", LifetimeUsage())
LIFETIME_USAGE = _stacked(
    op(
        "A subscription's lifetime usage",
        _LIFETIME_ONE,
        parameters=[query("status", description="active (default), pending, terminated")],
        methods=["GET"],
    ),
    op(
        "Set a subscription's historical usage",
        _LIFETIME_ONE,
        wrapped("LifetimeUsageInputEnvelope", "lifetime_usage", LifetimeUsageInput()),
        parameters=[query("status", description="active (default), pending, terminated")],
        methods=["PUT"],
    ),
)


# --- fees --------------------------------------------------------------------------------------


class FeeUpdateInput(serializers.Serializer):
    payment_status = Choice(["pending", "succeeded", "failed", "refunded"])


FEE_ONE = wrapped("FeeEnvelope", "fee", Fee())
_FEE_RANGES = [
    query(f"{name}_{end}", OpenApiTypes.DATETIME)
    for name in ("created_at", "succeeded_at", "failed_at", "refunded_at")
    for end in ("from", "to")
]
FEE_VIEWS = {
    "list": op(
        "List fees",
        paginated("FeePage", "fees", Fee),
        parameters=[
            *PAGE,
            query("external_customer_id"),
            query("external_subscription_id"),
            query("event_transaction_id"),
            query("currency"),
            query("fee_type", description="subscription, charge, commitment, add_on or credit"),
            query("billable_metric_code"),
            query("payment_status", description="pending, succeeded, failed or refunded"),
            *_FEE_RANGES,
        ],
    ),
    "retrieve": op("Retrieve a fee", FEE_ONE),
    "update": op(
        "Update a fee's payment status (fees on no invoice only)",
        FEE_ONE,
        wrapped("FeeUpdateInputEnvelope", "fee", FeeUpdateInput()),
    ),
    "destroy": op("Delete a fee (fees on no invoice only)", FEE_ONE),
}
