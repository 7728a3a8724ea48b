"""OpenAPI declarations of the payments endpoints (documentation only; see core/api/schema.py)."""

from rest_framework import serializers

from core.api.schema import PAGE, Int, List, Str, op, paginated, query, wrapped


class PaymentInput(serializers.Serializer):
    invoice_id = Str()
    amount_cents = Int()
    reference = Str()
    paid_at = Str(required=False)


class Payment(serializers.Serializer):
    lago_id = Str()
    lago_customer_id = Str()
    external_customer_id = Str()
    invoice_ids = List(child=Str())
    lago_payable_id = Str()
    payable_type = Str()
    amount_cents = Int()
    amount_currency = Str()
    status = Str()
    payment_status = Str()
    type = Str()
    reference = Str(allow_null=True)
    created_at = Str()


class PaymentReceipt(serializers.Serializer):
    lago_id = Str()
    number = Str()
    created_at = Str()
    payment = Payment()


PAYMENT_ONE = wrapped("PaymentEnvelope", "payment", Payment())
PAYMENT_PAGE = paginated("PaymentPage", "payments", Payment)
PAYMENT_VIEWS = {
    "create": op(
        "Record a manual payment",
        PAYMENT_ONE,
        wrapped("PaymentInputEnvelope", "payment", PaymentInput()),
    ),
    "list": op(
        "List payments",
        PAYMENT_PAGE,
        parameters=[*PAGE, query("external_customer_id"), query("invoice_id")],
    ),
    "retrieve": op("Retrieve a payment", PAYMENT_ONE),
}
RECEIPT_VIEWS = {
    "list": op(
        "List payment receipts",
        paginated("PaymentReceiptPage", "payment_receipts", PaymentReceipt),
        parameters=[*PAGE, query("invoice_id")],
    ),
    "retrieve": op(
        "Retrieve a payment receipt",
        wrapped("PaymentReceiptEnvelope", "payment_receipt", PaymentReceipt()),
    ),
}
CUSTOMER_PAYMENTS = op(
    "List a customer's payments", PAYMENT_PAGE, parameters=[*PAGE, query("invoice_id")]
)


class PaymentMethod(serializers.Serializer):
    lago_id = Str()
    is_default = serializers.BooleanField()
    payment_provider_code = Str(allow_null=True)
    payment_provider_name = Str(allow_null=True)
    payment_provider_type = Str()
    provider_method_id = Str()
    created_at = Str()


PAYMENT_METHOD_ONE = wrapped("PaymentMethodEnvelope", "payment_method", PaymentMethod())
CUSTOMER_PAYMENT_METHODS = op(
    "List a customer's payment methods",
    paginated("PaymentMethodPage", "payment_methods", PaymentMethod),
    parameters=PAGE,
)
SET_DEFAULT_PAYMENT_METHOD = op("Make a payment method the customer's default", PAYMENT_METHOD_ONE)
DESTROY_PAYMENT_METHOD = op("Delete a customer's payment method", PAYMENT_METHOD_ONE)


class PaymentRequestInput(serializers.Serializer):
    external_customer_id = Str()
    email = Str(required=False)
    lago_invoice_ids = List(child=Str())


class PaymentRequest(serializers.Serializer):
    lago_id = Str()
    email = Str()
    amount_cents = Int()
    amount_currency = Str()
    payment_status = Str()
    created_at = Str()
    customer = serializers.DictField()
    invoices = List(child=serializers.DictField())


PAYMENT_REQUEST_PAGE = paginated("PaymentRequestPage", "payment_requests", PaymentRequest)
PAYMENT_REQUEST_ONE = wrapped("PaymentRequestEnvelope", "payment_request", PaymentRequest())
PAYMENT_REQUEST_VIEWS = {
    "create": op(
        "Request payment of overdue invoices",
        PAYMENT_REQUEST_ONE,
        wrapped("PaymentRequestInputEnvelope", "payment_request", PaymentRequestInput()),
    ),
    "list": op(
        "List payment requests",
        PAYMENT_REQUEST_PAGE,
        parameters=[
            *PAGE,
            query("external_customer_id"),
            query("payment_status", description="pending, succeeded or failed"),
            query("currency"),
        ],
    ),
    "retrieve": op("Retrieve a payment request", PAYMENT_REQUEST_ONE),
}
CUSTOMER_PAYMENT_REQUESTS = op(
    "List a customer's payment requests",
    PAYMENT_REQUEST_PAGE,
    parameters=[*PAGE, query("payment_status")],
)
