"""Credit-note arithmetic as Lago's, through the API: items are amounts of fees before coupons;
the coupon adjustment is each item's share of its fee's coupons (unrounded), taxes apply to the
items net of it, and credit + refund + offset must make sub_total_excluding_taxes + taxes
(one minor unit off is absorbed). The estimate answers what create then stores.

Each case shows its hand computation in minor units (cents, yen, fils)."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from customers.applied_coupons import applied_coupon_create
from customers.services import customer_upsert, subscription_create
from invoices.models import CreditNote, Invoice
from invoices.services import invoice_update, subscription_bill_due
from plans.coupons import coupon_create
from taxes.services import tax_create
from tests.factories import make_plan

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=UTC)


def billed(amount_cents=10000, currency="USD", coupon_rate="10", tax_rate=None) -> Invoice:
    """A finalized invoice with one base fee of `amount_cents` (April, in arrears), a
    percentage coupon on it and, if given, a tax of `tax_rate` % on the fee net of it."""
    tax_codes = []
    if tax_rate is not None:
        tax_create(data={"code": "tax", "name": f"Tax {tax_rate}%", "rate": tax_rate})
        tax_codes = ["tax"]
    make_plan("pro", amount_cents, currency=currency, pay_in_advance=False, tax_codes=tax_codes)
    customer_upsert(data={"external_id": "cust", "currency": currency})
    if coupon_rate is not None:
        coupon_create(
            data={
                "code": "off",
                "name": "Off",
                "coupon_type": "percentage",
                "percentage_rate": coupon_rate,
                "frequency": "forever",
            }
        )
        applied_coupon_create(data={"external_customer_id": "cust", "coupon_code": "off"})
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )
    [invoice] = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    assert invoice.status == "finalized"
    return invoice


def body(invoice: Invoice, *amounts, **split) -> dict:
    fee = invoice.fees.get()
    items = [{"fee_id": str(fee.lago_id), "amount_cents": amount} for amount in amounts]
    return {"credit_note": {"invoice_id": str(invoice.lago_id), "items": items, **split}}


def exact(response) -> dict:
    """The JSON with its numbers as Decimals (precise amounts are compared digit for digit)."""
    return json.loads(response.content, parse_float=Decimal)


def estimate(api, invoice, *amounts) -> dict:
    response = api.post("/api/v1/credit_notes/estimate", body(invoice, *amounts), format="json")
    assert response.status_code == 200, response.content
    return exact(response)["estimated_credit_note"]


def create(api, invoice, *amounts, **split):
    return api.post("/api/v1/credit_notes", body(invoice, *amounts, **split), format="json")


def created(api, invoice, *amounts, **split) -> dict:
    """Estimate, then create: the created note's amounts are the estimate's, to the digit."""
    expected = estimate(api, invoice, *amounts)
    response = create(api, invoice, *amounts, **split)
    assert response.status_code == 200, response.content
    note = exact(response)["credit_note"]
    for key in (
        "sub_total_excluding_taxes_amount_cents",
        "taxes_amount_cents",
        "taxes_rate",
        "coupons_adjustment_amount_cents",
    ):
        assert note[key] == expected[key], key
    assert note["total_amount_cents"] == expected["max_creditable_amount_cents"]
    assert Decimal(note["precise_taxes_amount_cents"]) == expected["precise_taxes_amount_cents"]
    assert (
        Decimal(note["precise_coupons_adjustment_amount_cents"])
        == expected["precise_coupons_adjustment_amount_cents"]
    )
    assert taxes_of(note) == taxes_of(expected)
    stored = CreditNote.objects.get(lago_id=note["lago_id"])
    assert stored.total_amount_cents == (
        stored.sub_total_excluding_taxes_amount_cents + stored.taxes_amount_cents
    )
    assert stored.total_amount_cents == (
        stored.credit_amount_cents + stored.refund_amount_cents + stored.offset_amount_cents
    )
    return note


def taxes_of(note: dict) -> list[tuple]:
    return [
        (t["tax_code"], t["base_amount_cents"], t["amount_cents"]) for t in note["applied_taxes"]
    ]


def amounts(note: dict) -> tuple:
    return (
        note["coupons_adjustment_amount_cents"],
        note["sub_total_excluding_taxes_amount_cents"],
        note["taxes_amount_cents"],
        note["total_amount_cents"],
    )


def test_the_issues_example_item_before_coupon(api):
    invoice = billed()  # fee 100.00, coupon 10% = 10.00, no tax: invoice 90.00
    assert (invoice.fees_amount_cents, invoice.total_amount_cents) == (10000, 9000)
    # item 10.00 of the fee before its coupon: coupon share 1000 x 1000 / 10000 = 100;
    # sub total 1000 - 100 = 900; no tax; total 900 = credit 9.00
    note = created(api, invoice, 1000, reason="order_change", credit_amount_cents=900)
    assert amounts(note) == (100, 900, 0, 900)
    assert (note["credit_amount_cents"], note["balance_amount_cents"]) == (900, 900)
    [item] = note["items"]
    assert (item["amount_cents"], item["precise_amount_cents"]) == (1000, "1000.0")
    assert note["precise_coupons_adjustment_amount_cents"] == "100.0"
    assert note["precise_total_amount_cents"] == "900.0"
    from invoices.documents import _credit_note_context

    pdf = _credit_note_context(CreditNote.objects.get(lago_id=note["lago_id"]))
    assert [(row["label"], row["amount"]) for row in pdf["totals"]][:3] == [
        ("Coupons", "-$1.00"),
        ("Subtotal (excl. taxes)", "$9.00"),
        ("Total (incl. taxes)", "$9.00"),
    ]


def test_the_issues_example_with_a_20_percent_tax(api):
    invoice = billed(tax_rate=20)  # 100.00 - 10.00 coupon = 90.00 + 18.00 VAT = 108.00
    assert invoice.total_amount_cents == 10800
    # coupon 100; sub total 900; tax 900 x 20% = 180; total 1080
    note = created(api, invoice, 1000, reason="order_change", credit_amount_cents=1080)
    assert amounts(note) == (100, 900, 180, 1080)
    assert note["taxes_rate"] == 20
    [tax] = note["applied_taxes"]
    assert (tax["tax_code"], tax["tax_rate"], tax["base_amount_cents"], tax["amount_cents"]) == (
        "tax",
        20,
        900,
        180,
    )
    assert tax["lago_tax_id"] is not None
    refused = create(api, invoice, 1000, credit_amount_cents=900)  # the tax is part of it
    assert refused.status_code == 422
    assert refused.json()["error_details"] == {"base": ["does_not_match_item_amounts"]}


def test_refund_credit_and_offset_split(api):
    invoice = billed(tax_rate=20)  # 108.00 owed
    # item 50.00: coupon 500; sub total 4500; tax 900; total 5400
    unpaid_refund = create(api, invoice, 5000, refund_amount_cents=5400)
    assert unpaid_refund.json()["error_details"] == {
        "refund_amount_cents": ["cannot_refund_unpaid_invoice"]
    }
    note = created(api, invoice, 5000, credit_amount_cents=4000, offset_amount_cents=1400)
    assert amounts(note) == (500, 4500, 900, 5400)
    assert (note["credit_amount_cents"], note["offset_amount_cents"]) == (4000, 1400)
    invoice.refresh_from_db()
    assert invoice.payment_status == "pending"  # 14.00 of 108.00 offset
    invoice_update(invoice=invoice, data={"payment_status": "succeeded"})
    # item 25.00: coupon 250; sub total 2250; tax 450; total 2700
    offset_on_paid = create(api, invoice, 2500, offset_amount_cents=2700)
    assert offset_on_paid.json()["error_details"] == {
        "offset_amount_cents": ["higher_than_remaining_invoice_amount"]
    }
    note = created(api, invoice, 2500, credit_amount_cents=700, refund_amount_cents=2000)
    assert amounts(note) == (250, 2250, 450, 2700)
    assert (note["refund_amount_cents"], note["refund_status"]) == (2000, "pending")
    too_much = create(api, invoice, 2600)  # 100.00 - 50.00 - 25.00 = 25.00 left of the fee
    left_of_fee = {"amount_cents": ["higher_than_remaining_fee_amount"]}
    assert too_much.json()["error_details"] == left_of_fee


def test_half_cents_in_usd(api):
    invoice = billed(tax_rate="12.5")  # 100.00 - 10.00 = 90.00 + 11.25 = 101.25
    assert invoice.total_amount_cents == 10125
    # item 10.05 = 1005: coupon share 1000 x 1005 / 10000 = 100.5 -> 101 (half up);
    # sub total round(1005 - 100.5) = round(904.5) = 905;
    # tax 904.5 x 12.5% = 113.0625 -> 113; total 905 + 113 = 1018
    expected = estimate(api, invoice, 1005)
    assert expected["precise_coupons_adjustment_amount_cents"] == Decimal("100.5")
    assert expected["precise_taxes_amount_cents"] == Decimal("113.0625")
    note = created(api, invoice, 1005, credit_amount_cents=1018)
    assert amounts(note) == (101, 905, 113, 1018)
    assert note["precise_total_amount_cents"] == "1017.5625"


def test_half_yen_and_the_last_unit_in_jpy(api):
    invoice = billed(currency="JPY", tax_rate="12.5")  # ¥10,000 - ¥1,000 + ¥1,125 = ¥10,125
    assert (invoice.currency, invoice.total_amount_cents) == ("JPY", 10125)
    # item ¥4,485: coupon share 1000 x 4485 / 10000 = 448.5 -> 449;
    # sub total round(4485 - 448.5) = round(4036.5) = 4037;
    # tax 4036.5 x 12.5% = 504.5625 -> 505; total 4037 + 505 = 4542,
    # while the precise total 4036.5 + 504.5625 = 4541.0625 rounds to 4541: a client that
    # rounds the precise total asks for ¥4,541, one yen off, which is absorbed (Lago)
    assert estimate(api, invoice, 4485)["max_creditable_amount_cents"] == 4542
    two_off = create(api, invoice, 4485, credit_amount_cents=4540)
    assert two_off.json()["error_details"] == {"base": ["does_not_match_item_amounts"]}
    note = created(api, invoice, 4485, credit_amount_cents=4541)
    assert amounts(note) == (449, 4037, 505, 4542)
    assert (note["credit_amount_cents"], note["precise_total_amount_cents"]) == (4542, "4541.0625")
    assert note["reason"] == "other"  # Lago's default when none is given


def test_half_fils_in_kwd(api):
    invoice = billed(currency="KWD", tax_rate="12.5")  # 10.000 - 1.000 + 1.125 = 10.125 KWD
    assert invoice.total_amount_cents == 10125
    # item 4.045 KWD = 4045 fils: coupon share 404.5 -> 405; sub total round(3640.5) = 3641;
    # tax 3640.5 x 12.5% = 455.0625 -> 455; total 3641 + 455 = 4096
    note = created(api, invoice, 4045, credit_amount_cents=4096)
    assert amounts(note) == (405, 3641, 455, 4096)
    # item 4.040 KWD: coupon share 404; sub total 3636; tax 3636 x 12.5% = 454.5 -> 455;
    # total 3636 + 455 = 4091
    note = created(api, invoice, 4040, credit_amount_cents=4091)
    assert amounts(note) == (404, 3636, 455, 4091)


def test_the_last_note_takes_back_the_earlier_notes_tax_rounding(api):
    invoice = billed(coupon_rate=None, tax_rate="12.5")  # 100.00 + 12.50 = 112.50
    # item 0.04: tax 4 x 12.5% = 0.5 -> 1 (half a cent too much); total 5
    first = created(api, invoice, 4)
    assert amounts(first) == (0, 4, 1, 5)
    # the rest, 99.96: tax 9996 x 12.5% = 1249.5, less the 0.5 the first note took in excess
    # = 1249.0 -> 1249; total 9996 + 1249 = 11245; both notes give back exactly 112.50
    last = created(api, invoice, 9996)
    assert amounts(last) == (0, 9996, 1249, 11245)
    assert last["precise_taxes_amount_cents"] == "1249.0"
    assert first["total_amount_cents"] + last["total_amount_cents"] == invoice.total_amount_cents


def test_lago_errors_for_bad_items(api):
    invoice = billed(tax_rate=20)
    post = lambda url, data: api.post(url, {"credit_note": data}, format="json")  # noqa: E731
    items = body(invoice, 1000)["credit_note"]["items"]
    base = {"invoice_id": str(invoice.lago_id)}
    for url in ("/api/v1/credit_notes", "/api/v1/credit_notes/estimate"):
        unknown_fee = post(url, {**base, "items": [{**items[0], "fee_id": str(invoice.lago_id)}]})
        assert (unknown_fee.status_code, unknown_fee.json()["code"]) == (404, "fee_not_found")
        for amount in (-1, "10", 10.5, True):
            bad = post(url, {**base, "items": [{**items[0], "amount_cents": amount}]})
            assert bad.json()["error_details"] == {"amount_cents": ["invalid_value"]}, amount
        not_a_list = post(url, {**base, "items": items[0]})
        assert not_a_list.json()["error_details"] == {"items": ["must_be_an_array"]}
        no_invoice = post(url, {"invoice_id": "nope", "items": items})
        assert (no_invoice.status_code, no_invoice.json()["code"]) == (404, "invoice_not_found")
    nothing = post("/api/v1/credit_notes", {**base, "items": [{**items[0], "amount_cents": 0}]})
    assert nothing.json()["error_details"] == {"base": ["total_amount_must_be_positive"]}
    assert not CreditNote.objects.exists()


def test_python_interface_for_automatic_notes(api):
    """What the termination / upgrade code calls: unused days of a fee as precise minor units,
    an estimate with sub_total, coupons_adjustment, taxes and total, then the note."""
    from invoices.services.credit_notes import credit_note_create, credit_note_estimate

    invoice = billed(tax_rate=20)  # 100.00 - 10.00 coupon + 18.00 VAT
    fee = invoice.fees.get()
    unused = Decimal(fee.amount_cents) * 5 / 31  # 5 of 31 days: 1612.903225806... cents
    items = [{"fee_id": str(fee.lago_id), "amount_cents": unused}]
    # kept to 5 decimals: 1612.90323; coupon share 1000 x 1612.90323 / 10000 = 161.290323;
    # sub total round(1451.612907) = 1452; tax 1451.612907 x 20% = 290.3225814 -> 290;
    # total 1452 + 290 = 1742
    estimate = credit_note_estimate(invoice=invoice, items=items)
    assert (estimate.sub_total, estimate.coupons_adjustment, estimate.taxes, estimate.total) == (
        1613,
        161,
        290,
        1742,
    )
    assert estimate.sub_total_excluding_taxes == 1452
    note = credit_note_create(
        data={"invoice_id": str(invoice.lago_id), "reason": "order_change", "items": items},
        automatic=True,
    )
    assert (note.automatic, note.total_amount_cents, note.credit_amount_cents) == (True, 1742, 1742)
    item = note.items.get()
    assert (item.amount_cents, item.precise_amount_cents) == (1613, Decimal("1612.90323"))
    assert note.precise_coupons_adjustment_amount_cents == Decimal("161.29032")
    # a client cannot make its note automatic
    created = create(api, invoice, 1000, automatic=True, credit_amount_cents=1080)
    assert (
        CreditNote.objects.get(lago_id=created.json()["credit_note"]["lago_id"]).automatic is False
    )


def test_admin_preview_shows_and_issues_the_same_amounts(admin_client):
    from django.urls import reverse

    invoice = billed(tax_rate=20)
    invoice_update(invoice=invoice, data={"payment_status": "succeeded"})
    fee = invoice.fees.get()
    url = reverse("admin:invoices_invoice_credit_note", args=[invoice.pk])
    form = {"reason": "other", f"fee_{fee.lago_id}": "1000", "refund_amount_cents": "80"}
    preview = admin_client.post(url, {**form, "preview": "1"}).content.decode()
    # coupon share 100; sub total 900; VAT 180; total 1080 = 1000 credit + 80 refunded
    for cell, value in [
        ("items", "1000"),
        ("coupons", "-100"),
        ("subtotal", "900"),
        ("taxes", "180"),
        ("total", "1080"),
        ("credit", "1000"),
        ("refund", "80"),
        ("offset", "0"),
    ]:
        assert f'id="preview-{cell}">{value}<' in preview, cell
    assert not CreditNote.objects.exists()
    admin_client.post(url, {**form, "issue": "1"})
    note = CreditNote.objects.get()
    assert (
        note.coupons_adjustment_amount_cents,
        note.sub_total_excluding_taxes_amount_cents,
        note.taxes_amount_cents,
        note.total_amount_cents,
        note.credit_amount_cents,
        note.refund_amount_cents,
    ) == (100, 900, 180, 1080, 1000, 80)
    refused = admin_client.post(url, {**form, "offset_amount_cents": "5", "preview": "1"})
    assert "higher_than_remaining_invoice_amount" in refused.content.decode()  # paid: no offset
