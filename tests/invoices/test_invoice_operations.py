"""DELETE /invoices/{id}, POST …/retry, POST …/lose_dispute and POST /invoices/preview."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.apps import apps

from customers.services import customer_upsert, subscription_create
from invoices.models import BillingFailure
from invoices.services import drafts_finalize_due, invoice_finalize, subscription_bill_due
from invoices.services.failures import billing_failure_record
from tests.factories import make_metric, make_plan, standard_charge
from tests.lago_spec import schema_errors
from usage.services import events_ingest

pytestmark = pytest.mark.django_db

# The spec types these as non-null, yet Lago itself sends null for an undisputed invoice,
# without a PDF, or for a preview (no sequence); the nested customer and subscription are
# other renderers' (customers.serializers).
GAPS = (
    r"invoice/(payment_dispute_lost_at|file_url): None is not of type 'string'",
    r"invoice/sequential_id: None is not of type 'integer'",
    r"invoice/subscriptions/\*/.*",
    r"invoice: 'billing_entity_code' is a required property",
    r"invoice/customer(/.*)?: .*",
    r"invoice/fees/\*/item/lago_item_id: None is not of type 'string'",
)


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def draft():
    """April's invoice for `cust` (3-day grace, so a draft): $10 base fee, 100 tokens at 0.01."""
    metric = make_metric("tokens", field_name="tokens")
    make_plan("pro", 1000, charges=[standard_charge(metric, "0.01")])
    customer_upsert(
        data={
            "external_id": "cust",
            "currency": "USD",
            "billing_configuration": {"invoice_grace_period": 3},
        }
    )
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )
    raw = {"transaction_id": "t1", "external_subscription_id": "sub", "code": "tokens"}
    raw |= {"timestamp": "2024-04-10T00:00:00Z", "properties": {"tokens": 100}}
    events_ingest(raws=[raw], now=at(2024, 4, 10))
    from customers.models import Subscription

    sub = Subscription.objects.get(external_id="sub")
    with time_machine.travel(at(2024, 5, 1, 0, 1), tick=False):
        [invoice] = subscription_bill_due(subscription_id=sub.pk, now=at(2024, 5, 1, 0, 1))
    return invoice


def row_counts() -> dict:
    """Rows of every model but the API request log (which records this request by design)."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.label != "core.ApiLog"
    }


# --- delete ------------------------------------------------------------------------------------


def test_a_draft_is_deleted_and_never_shown_nor_finalized(api, draft):
    response = api.delete(f"/api/v1/invoices/{draft.lago_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["invoice"]["lago_id"] == str(draft.lago_id)
    assert body["invoice"]["status"] == "draft" and body["invoice"]["fees_amount_cents"] == 1100
    draft.refresh_from_db()
    assert draft.status == "deleted" and draft.fees.count() == 2
    assert api.get(f"/api/v1/invoices/{draft.lago_id}").status_code == 404
    assert api.get("/api/v1/invoices").json()["invoices"] == []
    assert api.get("/api/v1/fees").json()["fees"] == []
    assert drafts_finalize_due(now=at(2024, 6, 1)) == []
    assert api.delete(f"/api/v1/invoices/{draft.lago_id}").status_code == 404


def test_a_finalized_invoice_is_not_deletable(api, draft):
    invoice_finalize(invoice=draft)
    response = api.delete(f"/api/v1/invoices/{draft.lago_id}")
    assert (response.status_code, response.json()["code"]) == (405, "not_deletable")
    draft.refresh_from_db()
    assert draft.status == "finalized"


# --- retry -------------------------------------------------------------------------------------


def test_retry_finalizes_a_draft_whose_finalization_failed(api, draft):
    billing = draft.billings.get()
    failure = billing_failure_record(
        subscription=billing.subscription,
        boundary=billing.boundary,
        reason=billing.invoicing_reason,
        exc=RuntimeError("tax service down"),
    )
    with time_machine.travel(at(2024, 5, 2), tick=False):
        response = api.post(f"/api/v1/invoices/{draft.lago_id}/retry")
    assert response.status_code == 200
    body = response.json()["invoice"]
    assert body["status"] == "finalized" and body["total_amount_cents"] == 1100
    failure.refresh_from_db()
    assert failure.resolved_at == at(2024, 5, 2)
    assert schema_errors("Invoice", response.json(), GAPS) == []


def test_retry_refuses_an_invoice_that_did_not_fail(api, draft):
    response = api.post(f"/api/v1/invoices/{draft.lago_id}/retry")
    assert (response.status_code, response.json()["code"]) == (405, "invalid_status")
    draft.refresh_from_db()
    assert draft.status == "draft" and not BillingFailure.objects.exists()


# --- lose dispute ------------------------------------------------------------------------------


def test_lose_dispute_marks_a_finalized_invoice_once(api, draft):
    invoice_finalize(invoice=draft)
    with time_machine.travel(at(2024, 5, 20), tick=False):
        first = api.post(f"/api/v1/invoices/{draft.lago_id}/lose_dispute")
    with time_machine.travel(at(2024, 5, 21), tick=False):
        again = api.post(f"/api/v1/invoices/{draft.lago_id}/lose_dispute")
    assert first.json()["invoice"]["payment_dispute_lost_at"] == "2024-05-20T00:00:00Z"
    assert again.json()["invoice"]["payment_dispute_lost_at"] == "2024-05-20T00:00:00Z"
    # A lost dispute stays as it is: the invoice cannot be voided any more.
    void = api.post(f"/api/v1/invoices/{draft.lago_id}/void")
    assert void.json()["code"] == "invoice_payment_dispute_lost"


def test_a_draft_has_no_dispute(api, draft):
    response = api.post(f"/api/v1/invoices/{draft.lago_id}/lose_dispute")
    assert (response.status_code, response.json()["code"]) == (405, "not_disputable")


# --- preview -----------------------------------------------------------------------------------


def test_preview_of_a_new_customer_on_an_advance_plan_writes_nothing(api):
    make_plan("start", 3000, pay_in_advance=True)
    before = row_counts()
    body = {
        "customer": {"external_id": "new", "name": "New", "currency": "USD"},
        "plan_code": "start",
        "subscription_at": "2024-06-10T00:00:00Z",
        "billing_time": "anniversary",
    }
    response = api.post("/api/v1/invoices/preview", body, format="json")
    assert response.status_code == 200, response.content
    invoice = response.json()["invoice"]
    assert (invoice["status"], invoice["number"]) == ("draft", "INV-DRAFT")
    assert invoice["issuing_date"] == "2024-06-10"
    assert [f["amount_cents"] for f in invoice["fees"]] == [3000]
    assert invoice["total_amount_cents"] == 3000
    assert invoice["customer"]["external_id"] == "new"
    assert schema_errors("Invoice", response.json(), GAPS) == []
    assert row_counts() == before


def test_preview_of_a_plan_in_arrears_bills_its_first_period(api):
    make_plan("monthly", 1000)
    customer_upsert(data={"external_id": "known", "currency": "USD"})
    before = row_counts()
    body = {
        "customer": {"external_id": "known"},
        "plan_code": "monthly",
        "subscription_at": "2024-06-01T00:00:00Z",
    }
    invoice = api.post("/api/v1/invoices/preview", body, format="json").json()["invoice"]
    assert invoice["issuing_date"] == "2024-07-01" and invoice["total_amount_cents"] == 1000
    assert row_counts() == before


def test_preview_of_an_existing_subscription_bills_the_usage_so_far(api, draft):
    invoice_finalize(invoice=draft)
    raw = {"transaction_id": "t2", "external_subscription_id": "sub", "code": "tokens"}
    raw |= {"timestamp": "2024-05-03T00:00:00Z", "properties": {"tokens": 50}}
    events_ingest(raws=[raw], now=at(2024, 5, 3))
    before = row_counts()
    body = {"customer": {"external_id": "cust"}, "subscriptions": {"external_ids": ["sub"]}}
    with time_machine.travel(at(2024, 5, 4), tick=False):
        response = api.post("/api/v1/invoices/preview", body, format="json")
    invoice = response.json()["invoice"]
    assert sorted(f["amount_cents"] for f in invoice["fees"]) == [50, 1000]
    assert invoice["issuing_date"] == "2024-06-01"
    assert row_counts() == before
    terminated = {"external_ids": ["sub"], "terminated_at": "2024-05-16T00:00:00Z"}
    body = {"customer": {"external_id": "cust"}, "subscriptions": terminated}
    with time_machine.travel(at(2024, 5, 4), tick=False):
        response = api.post("/api/v1/invoices/preview", body, format="json")
    invoice = response.json()["invoice"]
    assert invoice["billing_periods"][0]["invoicing_reason"] == "subscription_terminating"
    # 15 days of May's base fee: 1000 * 15 / 31 = 483.87, rounded once.
    assert sorted(f["amount_cents"] for f in invoice["fees"]) == [50, 484]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("body", "status", "details"),
    [
        ({"plan_code": "pro"}, 422, {"customer": ["value_is_mandatory"]}),
        ({"customer": {"external_id": "x"}}, 422, {"plan_code": ["value_is_mandatory"]}),
        ({"customer": {}, "plan_code": "nope"}, 404, None),
        (
            {"customer": {}, "plan_code": "pro", "subscription_at": "soon"},
            422,
            {"subscription_at": ["invalid_date"]},
        ),
        (
            {"customer": {"external_id": "cust"}, "subscriptions": {"external_ids": []}},
            422,
            {"external_ids": ["one_subscription_per_preview"]},
        ),
    ],
)
def test_preview_refusals(api, draft, body, status, details):
    before = row_counts()
    response = api.post("/api/v1/invoices/preview", body, format="json")
    assert response.status_code == status
    if details:
        assert response.json()["error_details"] == details
    assert row_counts() == before
