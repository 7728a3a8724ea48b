"""/api/v1/schema describes what every operation accepts, so a fuzzer can generate payloads."""

import pytest

pytestmark = pytest.mark.django_db

# Operations that take no body at all (the path says everything).
BODYLESS = {
    ("post", "/api/v1/credit_notes/{lago_id}/download"),
    ("put", "/api/v1/credit_notes/{lago_id}/void"),
    ("post", "/api/v1/customers/{external_id}/checkout_url"),
    ("post", "/api/v1/invoices/{lago_id}/download"),
    ("put", "/api/v1/invoices/{lago_id}/finalize"),
    ("put", "/api/v1/invoices/{lago_id}/refresh"),
    ("post", "/api/v1/invoices/{lago_id}/retry_payment"),
    ("post", "/api/v1/wallet_transactions/{lago_id}/payment_url"),
    ("post", "/api/v1/invoices/{lago_id}/retry"),
    ("post", "/api/v1/invoices/{lago_id}/lose_dispute"),
    ("put", "/api/v1/invoices/{lago_id}/lose_dispute"),
    ("post", "/api/v1/invoices/{lago_id}/payment_url"),
    ("put", "/api/v1/customers/{external_id}/payment_methods/{method_id}/set_as_default"),
}

PAGE = {"page", "per_page"}

# Every list and the filters its view reads from the query string.
LISTS = {
    "/api/v1/add_ons": set(),
    "/api/v1/activity_logs": {
        "from_date",
        "to_date",
        "activity_types[]",
        "activity_sources[]",
        "user_emails[]",
        "external_customer_id",
        "external_subscription_id",
        "resource_ids[]",
        "resource_types[]",
    },
    "/api/v1/api_logs": {
        "from_date",
        "to_date",
        "http_methods[]",
        "http_statuses[]",
        "api_version",
        "request_paths",
    },
    "/api/v1/applied_coupons": {"external_customer_id", "status", "coupon_code[]"},
    "/api/v1/billable_metrics": set(),
    "/api/v1/coupons": set(),
    "/api/v1/credit_notes": {"external_customer_id", "reason", "credit_status", "invoice_number"},
    "/api/v1/customers": set(),
    "/api/v1/customers/{external_id}/applied_coupons": {"status", "coupon_code[]"},
    "/api/v1/customers/{external_id}/credit_notes": {"reason", "credit_status", "amount_from"},
    "/api/v1/customers/{external_id}/invoices": {"status", "amount_from", "issuing_date_from"},
    "/api/v1/customers/{external_id}/subscriptions": {"plan_code", "status[]"},
    "/api/v1/customers/{external_id}/wallets": {"status", "currency"},
    "/api/v1/customers/{external_id}/past_usage": {"external_subscription_id"},
    "/api/v1/features": {"search_term"},
    "/api/v1/events": {"external_subscription_id", "code", "timestamp_from", "timestamp_to"},
    "/api/v1/fees": {
        "external_customer_id",
        "external_subscription_id",
        "event_transaction_id",
        "currency",
        "fee_type",
        "billable_metric_code",
        "payment_status",
        "created_at_from",
        "created_at_to",
        "succeeded_at_from",
        "succeeded_at_to",
        "failed_at_from",
        "failed_at_to",
        "refunded_at_from",
        "refunded_at_to",
    },
    "/api/v1/invoices": {
        "external_customer_id",
        "status",
        "payment_status",
        "invoice_type",
        "currency",
        "payment_overdue",
        "issuing_date_from",
        "issuing_date_to",
        "amount_from",
        "amount_to",
    },
    "/api/v1/payments": {"external_customer_id", "invoice_id"},
    "/api/v1/payment_receipts": {"invoice_id"},
    "/api/v1/customers/{external_id}/payments": {"invoice_id"},
    "/api/v1/customers/{external_id}/payment_methods": set(),
    "/api/v1/customers/{external_id}/payment_requests": {"payment_status"},
    "/api/v1/payment_requests": {"external_customer_id", "payment_status", "currency"},
    "/api/v1/plans": set(),
    "/api/v1/subscriptions": {"external_customer_id", "plan_code", "status", "status[]"},
    "/api/v1/taxes": set(),
    "/api/v1/wallets": {"external_customer_id", "status"},
    "/api/v1/wallets/{lago_id}/wallet_transactions": {
        "status",
        "transaction_type",
        "transaction_status",
    },
    "/api/v1/webhook_endpoints": set(),
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield method, path, operation


def _query_names(operation) -> set:
    return {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}


def test_every_operation_that_takes_a_body_declares_its_json_request_body(schema):
    missing = [
        (method, path)
        for method, path, operation in _operations(schema)
        if method in {"post", "put", "patch"}
        and (method, path) not in BODYLESS
        and "application/json" not in operation.get("requestBody", {}).get("content", {})
    ]
    assert missing == []


def test_request_bodies_list_the_fields_of_lago_payloads(schema):
    bodies = schema["components"]["schemas"]
    customer = bodies["CustomerInput"]
    assert customer["required"] == ["external_id"]
    assert {"name", "email", "currency", "timezone", "billing_configuration", "metadata"} <= set(
        customer["properties"]
    )
    event = bodies["EventInput"]["properties"]
    assert {"transaction_id", "external_subscription_id", "code", "properties"} <= set(event)
    charge = bodies["ChargeInput"]["properties"]
    assert charge["charge_model"]["$ref"].endswith("ChargeModelEnum")


def test_every_list_declares_its_page_parameters_and_filters(schema):
    lists = {
        path: _query_names(operation)
        for method, path, operation in _operations(schema)
        if path in LISTS and method == "get"
    }
    assert set(lists) == set(LISTS)
    for path, wanted in LISTS.items():
        assert PAGE | wanted <= lists[path], path


# Lago answers "delete all alerts" with an empty 200 (its spec declares no body either).
EMPTY_200 = {"deleteAllSubscriptionAlerts", "deleteAllCustomerWalletAlerts"}


def test_every_operation_declares_a_200_response_schema_and_lago_errors(schema):
    for method, path, operation in _operations(schema):
        if operation.get("operationId") in EMPTY_200:
            assert "content" not in operation["responses"]["200"], (method, path)
        else:
            ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert ok, (method, path)
        assert operation["responses"]["422"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/LagoError"
        }


def test_list_answers_are_described_as_lago_pages_with_meta(schema):
    page = schema["components"]["schemas"]["CustomerPage"]
    assert page["properties"]["customers"]["type"] == "array"
    assert page["properties"]["meta"] == {"$ref": "#/components/schemas/PageMeta"}


def test_operations_use_the_bearer_api_key(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
    }
    assert all(op.get("security") == [{"bearerAuth": []}] for _, _, op in _operations(schema))
