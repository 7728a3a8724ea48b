"""GET /customers/{external_customer_id}/invoices, /credit_notes, /subscriptions and
/applied_coupons: the global lists' filters and pages with the customer fixed, 404
customer_not_found for an unknown or deleted customer, bodies in Lago's schemas."""

from datetime import UTC, datetime

import pytest
import time_machine

from customers.applied_coupons import applied_coupon_create
from customers.selectors import customer_get
from customers.services import customer_delete, customer_upsert, subscription_create
from invoices.services import subscription_bill_due
from invoices.services.credit_notes import credit_note_create
from plans.coupons import coupon_create
from tests.factories import make_plan
from tests.openapi_check import spec_errors

pytestmark = pytest.mark.django_db

# Gaps of serializers owned elsewhere (no billing entities; the nested customer and fees).
GAPS = (
    r".*'billing_entity_code' is a required property",
    r"(invoices|credit_notes)/\*/customer(/.*)?: .*",
    r"(invoices|credit_notes)/\*/(fees|items)/.*",
    r"invoices/\*/applied_taxes/.*",
    r"invoices/\*/subscriptions/.*",
    # null where the spec says string (Lago's serializers send null there too)
    r"invoices/\*/(file_url|payment_dispute_lost_at): None is not of type 'string'",
    r"subscriptions/\*/on_termination_credit_note: None is not one of .*",
)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def world():
    """alice and bob on a 100.00 USD monthly plan (arrears), each billed for April; alice has
    a 30.00 credit note on hers, a coupon, and a second, terminated subscription."""
    make_plan("pro", 10000, pay_in_advance=False)
    make_plan("lite", 500, pay_in_advance=False)
    coupon_create(
        data={
            "code": "off",
            "name": "Off",
            "coupon_type": "fixed_amount",
            "amount_cents": 100,
            "amount_currency": "USD",
            "frequency": "forever",
        }
    )
    invoices = {}
    for name in ("alice", "bob"):
        customer_upsert(data={"external_id": name, "currency": "USD"})
        with time_machine.travel(at(2024, 4, 1), tick=False):
            sub = subscription_create(
                data={
                    "external_customer_id": name,
                    "plan_code": "pro",
                    "external_id": f"{name}-pro",
                }
            )
        [invoices[name]] = subscription_bill_due(subscription_id=sub.pk, now=at(2024, 5, 1, 0, 1))
    with time_machine.travel(at(2024, 5, 2), tick=False):
        note = credit_note_create(
            data={
                "invoice_id": str(invoices["alice"].lago_id),
                "items": [
                    {"fee_id": str(invoices["alice"].fees.get().lago_id), "amount_cents": 3000}
                ],
                "credit_amount_cents": 3000,
            }
        )
        applied_coupon_create(data={"external_customer_id": "alice", "coupon_code": "off"})
        applied_coupon_create(data={"external_customer_id": "bob", "coupon_code": "off"})
    return invoices, note


def test_invoices_of_the_customer_only_with_filters(api):
    invoices, _ = world()
    body = api.get("/api/v1/customers/alice/invoices").json()
    assert [row["lago_id"] for row in body["invoices"]] == [str(invoices["alice"].lago_id)]
    [row] = body["invoices"]
    assert (row["customer"]["external_id"], row["total_amount_cents"]) == ("alice", 10000)
    assert row["status"] == "finalized" and row["currency"] == "USD"
    assert body["meta"] == {
        "current_page": 1,
        "next_page": None,
        "prev_page": None,
        "total_pages": 1,
        "total_count": 1,
    }
    assert spec_errors("InvoicesPaginated", body, GAPS) == []
    empty = api.get("/api/v1/customers/alice/invoices", {"status": "draft"}).json()
    assert empty["invoices"] == [] and empty["meta"]["total_count"] == 0
    above = api.get("/api/v1/customers/alice/invoices", {"amount_from": "10001"}).json()
    assert above["invoices"] == []
    within = api.get("/api/v1/customers/alice/invoices", {"amount_to": "10000"}).json()
    assert len(within["invoices"]) == 1
    dated = api.get("/api/v1/customers/alice/invoices", {"issuing_date_from": "2024-05-02"})
    assert dated.json()["invoices"] == []


def test_bad_amount_filter_is_a_422_naming_it(api):
    world()
    response = api.get("/api/v1/customers/alice/invoices", {"amount_from": "12.5"})
    assert response.status_code == 422
    assert response.json()["error_details"] == {"amount_from": ["invalid_format"]}


def test_credit_notes_of_the_customer(api):
    _, note = world()
    body = api.get("/api/v1/customers/alice/credit_notes").json()
    [row] = body["credit_notes"]
    assert row["lago_id"] == str(note.lago_id)
    assert (row["credit_amount_cents"], row["total_amount_cents"]) == (3000, 3000)
    assert row["credit_status"] == "available" and row["reason"] == "other"
    assert body["meta"]["total_count"] == 1
    assert spec_errors("CreditNotesPaginated", body, GAPS) == []
    assert api.get("/api/v1/customers/bob/credit_notes").json()["credit_notes"] == []
    voided = api.get("/api/v1/customers/alice/credit_notes", {"credit_status": "voided"})
    assert voided.json()["credit_notes"] == []
    numbered = api.get(
        "/api/v1/customers/alice/credit_notes", {"invoice_number": note.invoice.number}
    )
    assert len(numbered.json()["credit_notes"]) == 1


def test_subscriptions_of_the_customer_active_unless_asked(api):
    world()
    with time_machine.travel(at(2024, 5, 3), tick=False):
        response = api.post(
            "/api/v1/subscriptions",
            {
                "subscription": {
                    "external_customer_id": "alice",
                    "plan_code": "lite",
                    "external_id": "alice-lite",
                }
            },
            format="json",
        )
        assert response.status_code == 200, response.content
        api.delete("/api/v1/subscriptions/alice-lite")
    body = api.get("/api/v1/customers/alice/subscriptions").json()
    assert [row["external_id"] for row in body["subscriptions"]] == ["alice-pro"]
    assert body["subscriptions"][0]["plan_code"] == "pro"
    assert spec_errors("SubscriptionsPaginated", body, GAPS) == []
    both = api.get("/api/v1/customers/alice/subscriptions?status[]=active&status[]=terminated")
    assert {row["external_id"] for row in both.json()["subscriptions"]} == {
        "alice-pro",
        "alice-lite",
    }
    by_plan = api.get("/api/v1/customers/alice/subscriptions", {"plan_code": "lite"})
    assert by_plan.json()["subscriptions"] == []


def test_applied_coupons_of_the_customer(api):
    world()
    body = api.get("/api/v1/customers/alice/applied_coupons").json()
    [row] = body["applied_coupons"]
    assert (row["external_customer_id"], row["coupon_code"], row["amount_cents"]) == (
        "alice",
        "off",
        100,
    )
    assert body["meta"]["total_count"] == 1
    assert spec_errors("AppliedCouponsPaginated", body, GAPS) == []
    terminated = api.get("/api/v1/customers/alice/applied_coupons", {"status": "terminated"})
    assert terminated.json()["applied_coupons"] == []


def test_pages_of_a_customer_list(api):
    world()
    page = api.get("/api/v1/customers/alice/subscriptions?status[]=active&per_page=1&page=2")
    assert page.json() == {
        "subscriptions": [],
        "meta": {
            "current_page": 2,
            "next_page": None,
            "prev_page": 1,
            "total_pages": 1,
            "total_count": 1,
        },
    }


@pytest.mark.parametrize("route", ["invoices", "credit_notes", "subscriptions", "applied_coupons"])
def test_unknown_or_deleted_customer_is_customer_not_found(api, route):
    world()
    customer_upsert(data={"external_id": "gone", "currency": "USD"})
    customer_delete(customer=customer_get(external_id="gone"))
    for external_id in ("nobody", "gone"):
        response = api.get(f"/api/v1/customers/{external_id}/{route}")
        assert response.status_code == 404
        assert response.json() == {
            "status": 404,
            "error": "Not Found",
            "code": "customer_not_found",
        }
