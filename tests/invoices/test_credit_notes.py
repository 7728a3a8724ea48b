"""Credit notes: partial credit consumed by the next invoice, refunds of paid invoices,
offsets of unpaid ones, taxes in proportion, voiding; voiding a paid invoice."""

from datetime import UTC, datetime

import pytest
import time_machine

from core.errors import RuleViolation, ValidationFailed
from customers.services import subscription_create
from invoices.models import CreditNote, Invoice
from invoices.services import invoice_update, invoice_void, subscription_bill_due
from invoices.services.credit_notes import (
    credit_note_create,
    credit_note_estimate,
    credit_note_void,
)
from tests.factories import make_plan

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def april():
    """A finalized $100.00 invoice for April (base fee in arrears)."""
    make_plan("pro", 10000)
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )
    [invoice] = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    return invoice


def _note(invoice, amount, **split):
    fee = invoice.fees.get()
    return credit_note_create(
        data={
            "invoice_id": str(invoice.lago_id),
            "reason": "other",
            "items": [{"fee_id": str(fee.lago_id), "amount_cents": amount}],
            **split,
        }
    )


def test_partial_credit_is_consumed_by_the_next_invoice(april):
    note = _note(april, 3000)
    assert (note.number, note.credit_amount_cents, note.credit_status) == (
        f"{april.number}-CN1",
        3000,
        "available",
    )
    [may] = subscription_bill_due(
        subscription_id=april.billings.get().subscription_id, now=at(2024, 6, 1, 0, 1)
    )
    assert (may.fees_amount_cents, may.credit_notes_amount_cents, may.total_amount_cents) == (
        10000,
        3000,
        7000,
    )
    note.refresh_from_db()
    assert note.credit_status == "consumed"
    with pytest.raises(RuleViolation):
        credit_note_void(note=note)


def test_cannot_credit_more_than_is_left_on_a_fee(april):
    _note(april, 6000)
    with pytest.raises(ValidationFailed) as error:
        _note(april, 5000)
    # Lago's field and code (ValidateItemService): amount_cents, not an indexed path
    assert error.value.errors == {"amount_cents": ["higher_than_remaining_fee_amount"]}
    estimate = credit_note_estimate(
        invoice=april, items=[{"fee_id": str(april.fees.get().lago_id), "amount_cents": 4000}]
    )
    assert estimate.total == 4000


def test_refund_needs_a_paid_invoice_then_follows_the_paid_amount(april):
    with pytest.raises(ValidationFailed) as error:
        _note(april, 2000, credit_amount_cents=0, refund_amount_cents=2000)
    assert error.value.errors == {"refund_amount_cents": ["cannot_refund_unpaid_invoice"]}
    invoice_update(invoice=april, data={"payment_status": "succeeded"})
    note = _note(april, 2000, credit_amount_cents=500, refund_amount_cents=1500)
    assert (note.refund_status, note.refund_amount_cents, note.credit_amount_cents) == (
        "pending",
        1500,
        500,
    )


def test_an_offset_settles_an_unpaid_invoice(april):
    _note(april, 10000, offset_amount_cents=10000)
    april.refresh_from_db()
    assert april.payment_status == "succeeded"


def test_split_must_add_up(april):
    with pytest.raises(ValidationFailed) as error:
        _note(april, 2000, credit_amount_cents=1000, refund_amount_cents=0)
    assert error.value.errors == {"base": ["does_not_match_item_amounts"]}  # Lago's code


def test_void_unused_credit(april):
    note = _note(april, 1000)
    credit_note_void(note=note)
    note.refresh_from_db()
    assert note.credit_status == "voided"
    [may] = subscription_bill_due(
        subscription_id=april.billings.get().subscription_id, now=at(2024, 6, 1, 0, 1)
    )
    assert may.credit_notes_amount_cents == 0


def test_voiding_a_paid_invoice_issues_a_credit_note(april):
    invoice_update(invoice=april, data={"payment_status": "succeeded"})
    with pytest.raises(RuleViolation):
        invoice_void(invoice=april)
    invoice_void(invoice=april, generate_credit_note=True, refund_amount=10000, credit_amount=0)
    april.refresh_from_db()
    assert april.status == Invoice.Status.VOIDED
    note = CreditNote.objects.get()
    assert (note.refund_amount_cents, note.total_amount_cents) == (10000, 10000)


def test_credit_note_api(api, april):
    fee = api.get(f"/api/v1/invoices/{april.lago_id}").json()["invoice"]["fees"][0]
    body = {
        "credit_note": {
            "invoice_id": str(april.lago_id),
            "reason": "duplicated_charge",
            "items": [{"fee_id": fee["lago_id"], "amount_cents": 2500}],
        }
    }
    estimate = api.post("/api/v1/credit_notes/estimate", body).json()["estimated_credit_note"]
    assert estimate["sub_total_excluding_taxes_amount_cents"] == 2500
    assert estimate["max_creditable_amount_cents"] == 2500  # Lago: this note's total
    created = api.post("/api/v1/credit_notes", body).json()["credit_note"]
    assert (created["credit_amount_cents"], created["balance_amount_cents"]) == (2500, 2500)
    listed = api.get("/api/v1/credit_notes?external_customer_id=cust").json()
    assert [n["lago_id"] for n in listed["credit_notes"]] == [created["lago_id"]]
    voided = api.put(f"/api/v1/credit_notes/{created['lago_id']}/void").json()["credit_note"]
    assert voided["credit_status"] == "voided"
    bad = api.post(
        "/api/v1/credit_notes", {"credit_note": {**body["credit_note"], "reason": "because"}}
    )
    assert bad.status_code == 422 and bad.json()["error_details"] == {
        "reason": ["value_is_invalid"]
    }


def test_credit_note_admin_preview_then_issue(admin_client, april):
    from django.urls import reverse

    url = reverse("admin:invoices_invoice_credit_note", args=[april.pk])
    fee = april.fees.get()
    form = {"reason": "other", f"fee_{fee.lago_id}": "1200"}
    preview = admin_client.post(url, {**form, "preview": "1"}).content.decode()
    assert 'id="preview-total">1200<' in preview and not CreditNote.objects.exists()
    admin_client.post(url, {**form, "issue": "1"})
    assert CreditNote.objects.get().total_amount_cents == 1200


def test_credit_note_pdf_download(api, client, april):
    note = _note(april, 1500)
    url = api.post(f"/api/v1/credit_notes/{note.lago_id}/download").json()["credit_note"][
        "file_url"
    ]
    pdf = client.get(url.removeprefix("http://testserver"))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
