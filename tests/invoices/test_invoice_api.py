"""Invoices through the API: list filters, find, update, finalize, refresh, void, download."""

from datetime import UTC, datetime

import pytest
import time_machine

from customers.services import customer_upsert, subscription_create
from tests.factories import make_metric, make_plan, standard_charge
from usage.services import events_ingest

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def draft():
    """A draft invoice (3-day grace) for April with 100 tokens at $0.01 and a $10 base fee."""
    metric = make_metric("tokens", field_name="tokens")
    make_plan("pro", 1000, charges=[standard_charge(metric, "0.01")])
    customer_upsert(
        data={
            "external_id": "cust",
            "email": "ap@cust.example",
            "billing_configuration": {"invoice_grace_period": 3},
            "net_payment_term": 15,
        }
    )
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )
    events_ingest(
        raws=[
            {
                "transaction_id": "t1",
                "external_subscription_id": "sub",
                "code": "tokens",
                "timestamp": "2024-04-10T00:00:00Z",
                "properties": {"tokens": 100},
            }
        ],
        now=at(2024, 4, 10),
    )
    from invoices.services import subscription_bill_due

    [invoice] = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    return invoice


def test_list_find_and_required_fields(api, draft):
    body = api.get("/api/v1/invoices?external_customer_id=cust&status=draft").json()
    [item] = body["invoices"]
    assert item["number"] == "INV-DRAFT" and item["status"] == "draft"
    assert (item["fees_amount_cents"], item["total_amount_cents"]) == (1100, 1100)
    assert item["billing_periods"][0]["invoicing_reason"] == "subscription_periodic"
    assert body["meta"]["total_count"] == 1
    found = api.get(f"/api/v1/invoices/{draft.lago_id}").json()["invoice"]
    assert [f["amount_cents"] for f in found["fees"]] == [100, 1000]
    assert api.get("/api/v1/invoices?status=finalized").json()["invoices"] == []
    missing = api.get("/api/v1/invoices/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.json()["code"] == "invoice_not_found"


def test_refresh_picks_up_late_events_then_finalize_numbers_it(api, draft):
    events_ingest(
        raws=[
            {
                "transaction_id": "late",
                "external_subscription_id": "sub",
                "code": "tokens",
                "timestamp": "2024-04-30T10:00:00Z",
                "properties": {"tokens": 50},
            }
        ],
        now=at(2024, 5, 1, 2),
    )
    refreshed = api.put(f"/api/v1/invoices/{draft.lago_id}/refresh").json()["invoice"]
    assert refreshed["total_amount_cents"] == 1150
    with time_machine.travel(at(2024, 5, 2), tick=False):
        finalized = api.put(f"/api/v1/invoices/{draft.lago_id}/finalize").json()["invoice"]
    assert (finalized["status"], finalized["number"]) == ("finalized", "INV-202405-0001")
    assert (finalized["issuing_date"], finalized["payment_due_date"]) == (
        "2024-05-01",
        "2024-05-16",
    )
    again = api.put(f"/api/v1/invoices/{draft.lago_id}/finalize")
    assert again.status_code == 404  # only drafts are finalized (Lago)
    refresh_final = api.put(f"/api/v1/invoices/{draft.lago_id}/refresh")
    assert refresh_final.status_code == 422


def test_update_metadata_and_manual_payment_status(api, draft):
    response = api.put(
        f"/api/v1/invoices/{draft.lago_id}",
        {"invoice": {"metadata": [{"key": "po", "value": "PO-7"}]}},
    )
    assert response.json()["invoice"]["metadata"] == [{"id": "0", "key": "po", "value": "PO-7"}]
    not_yet = api.put(
        f"/api/v1/invoices/{draft.lago_id}", {"invoice": {"payment_status": "succeeded"}}
    )
    assert not_yet.status_code == 422
    api.put(f"/api/v1/invoices/{draft.lago_id}/finalize")
    paid = api.put(
        f"/api/v1/invoices/{draft.lago_id}", {"invoice": {"payment_status": "succeeded"}}
    ).json()["invoice"]
    assert (paid["payment_status"], paid["total_due_amount_cents"]) == ("succeeded", 0)
    refused = api.post(f"/api/v1/invoices/{draft.lago_id}/void")
    assert refused.status_code == 422 and refused.json()["code"] == "invoice_paid"


def test_void_an_unpaid_invoice(api, draft):
    api.put(f"/api/v1/invoices/{draft.lago_id}/finalize")
    voided = api.post(f"/api/v1/invoices/{draft.lago_id}/void").json()["invoice"]
    assert voided["status"] == "voided"


def test_download_gives_a_signed_pdf_link(api, client, draft):
    api.put(f"/api/v1/invoices/{draft.lago_id}/finalize")
    url = api.post(f"/api/v1/invoices/{draft.lago_id}/download").json()["invoice"]["file_url"]
    assert url.startswith("http://testserver/documents/invoices/")
    path = url.removeprefix("http://testserver")
    pdf = client.get(path)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert client.get(path.split("?")[0] + "?token=forged").status_code == 404


def test_overdue_marking(api, draft):
    from invoices.tasks import mark_overdue

    api.put(f"/api/v1/invoices/{draft.lago_id}/finalize")
    with time_machine.travel(at(2024, 5, 20), tick=False):
        assert mark_overdue() == 1
        assert mark_overdue() == 0
    overdue = api.get("/api/v1/invoices?payment_overdue=true").json()["invoices"]
    assert [i["lago_id"] for i in overdue] == [str(draft.lago_id)]
