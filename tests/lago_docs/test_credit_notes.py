"""Lago's credit-notes page: item amounts are the fee's amount excluding tax (before coupons, which
are never credited back), the note's total never exceeds the invoice's; offset; the credit-note
wallet; voiding available credit."""

import pytest

from tests.lago_docs.conftest import at

pytestmark = pytest.mark.django_db


def _invoice_with_coupon(lago) -> dict:
    """A $100 fee, a 10% coupon, 10% tax: $100 - $10 = $90, + $9 tax = $99 (finalized Feb 1)."""
    lago.tax("vat_10", 10.0)
    lago.customer(tax_codes=["vat_10"])
    lago.plan("pro", 10000)
    lago.subscribe(at(2025, 1, 1), "pro")
    coupon = {
        "name": "Ten percent",
        "code": "ten_percent",
        "coupon_type": "percentage",
        "percentage_rate": "10",
        "frequency": "once",
    }
    lago.post("coupons", {"coupon": coupon})
    lago.post(
        "applied_coupons",
        {"applied_coupon": {"external_customer_id": "cust", "coupon_code": "ten_percent"}},
    )
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices()
    assert (
        invoice["fees_amount_cents"],
        invoice["coupons_amount_cents"],
        invoice["taxes_amount_cents"],
        invoice["total_amount_cents"],
    ) == (10000, 1000, 900, 9900)
    return invoice


def _note(lago, invoice, amount_cents, **split):
    [fee] = invoice["fees"]
    body = {
        "invoice_id": invoice["lago_id"],
        "reason": "other",
        "items": [{"fee_id": fee["lago_id"], "amount_cents": amount_cents}],
        **split,
    }
    return lago.api.post("/api/v1/credit_notes", {"credit_note": body}, format="json")


def test_item_amount_is_the_fee_before_coupons_and_the_coupon_is_not_credited(lago):
    """https://getlago.com/docs/guide/invoicing/credit-notes/overview#issue-a-credit-note

    Each item's amount may be up to the item's initial amount excluding tax, and the credit
    note's total cannot exceed the invoice's total; coupons are non-refundable and cannot be
    credited back. On a $100 fee with a 10% coupon and 10% tax (invoice total $99), crediting
    the whole item ($100, 10000 cents) gives a note of $100 - $10 coupon share = $90 + $9 tax =
    $99 (9900 cents): the invoice's total, the coupon left out.
    """
    invoice = _invoice_with_coupon(lago)
    estimate = lago.post(
        "credit_notes/estimate",
        {
            "credit_note": {
                "invoice_id": invoice["lago_id"],
                "items": [{"fee_id": invoice["fees"][0]["lago_id"], "amount_cents": 10000}],
            }
        },
        "estimated_credit_note",
    )
    assert estimate["max_creditable_amount_cents"] == 9900
    response = _note(lago, invoice, 10000, credit_amount_cents=9900)
    assert response.status_code == 200, response.json()
    note = response.json()["credit_note"]
    assert (
        note["items"][0]["amount_cents"],
        note["coupons_adjustment_amount_cents"],
        note["sub_total_excluding_taxes_amount_cents"],
        note["taxes_amount_cents"],
        note["total_amount_cents"],
        note["credit_amount_cents"],
    ) == (10000, 1000, 9000, 900, 9900, 9900)


def test_item_above_the_fee_amount_is_refused(lago):
    """https://getlago.com/docs/guide/invoicing/credit-notes/overview#issue-a-credit-note

    An item above the fee's initial amount excluding tax ($100) is refused.
    """
    invoice = _invoice_with_coupon(lago)
    response = _note(lago, invoice, 10001, credit_amount_cents=9901)
    assert response.status_code == 422


def test_half_the_item_credits_half_of_the_net_amount_and_its_tax(lago):
    """https://getlago.com/docs/guide/invoicing/credit-notes/overview#issue-a-credit-note

    Item amounts are before coupons, so crediting half the item ($50 of the $100 fee) takes
    half the coupon ($5) off and adds the tax on the rest: $45 + $4.50 = $49.50 (4950 cents).
    """
    invoice = _invoice_with_coupon(lago)
    response = _note(lago, invoice, 5000, credit_amount_cents=4950)
    assert response.status_code == 200, response.json()
    note = response.json()["credit_note"]
    assert (
        note["coupons_adjustment_amount_cents"],
        note["taxes_amount_cents"],
        note["total_amount_cents"],
    ) == (500, 450, 4950)


def test_offset_to_zero_marks_the_invoice_paid(lago):
    """https://getlago.com/docs/guide/invoicing/credit-notes/overview#offset

    If the invoice has an amount due, it can be offset; once the amount due reaches zero Lago
    marks the invoice's payment_status succeeded. A $30 invoice (no tax, no coupon) offset by
    $30 -> nothing due, paid.
    """
    lago.customer()
    lago.plan("basic", 3000)
    lago.subscribe(at(2025, 1, 1), "basic")
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices()
    response = _note(lago, invoice, 3000, offset_amount_cents=3000)
    assert response.status_code == 200, response.json()
    after = lago.invoice(invoice["lago_id"])
    assert (after["total_due_amount_cents"], after["payment_status"]) == (0, "succeeded")


def test_credit_is_used_after_tax_on_the_next_invoice_and_void_stops_it(lago):
    """https://getlago.com/docs/guide/invoicing/credit-notes/overview#credit-note-wallet and
    #void-credit-note

    Credited amounts go to the credit-note wallet and are deducted from the customer's next
    invoices after tax; the note's credit_status goes from available to consumed when used up;
    voiding the available credit loses it (credit_status voided). $30 invoices, 10% tax ($33):
    a $11 credit note (item $10 + $1 tax) is deducted from the next invoice ($33 -> $22) and
    consumed; a second one, voided, is not used.
    """
    lago.tax("vat_10", 10.0)
    lago.customer(tax_codes=["vat_10"])
    lago.plan("basic", 3000)
    lago.subscribe(at(2025, 1, 1), "basic")
    lago.beat(at(2025, 2, 1, 0, 5))
    [january] = lago.invoices()
    assert january["total_amount_cents"] == 3300
    first = _note(lago, january, 1000, credit_amount_cents=1100).json()["credit_note"]
    second = _note(lago, january, 1000, credit_amount_cents=1100).json()["credit_note"]
    with_void = lago.api.put(f"/api/v1/credit_notes/{second['lago_id']}/void")
    assert with_void.json()["credit_note"]["credit_status"] == "voided"
    lago.beat(at(2025, 3, 1, 0, 5))
    _, february = lago.invoices()
    assert (
        february["taxes_amount_cents"],
        february["credit_notes_amount_cents"],
        february["total_amount_cents"],
    ) == (300, 1100, 2200)
    used = lago.get(f"credit_notes/{first['lago_id']}", "credit_note")
    assert (used["credit_status"], used["balance_amount_cents"]) == ("consumed", 0)
