"""Lago's example invoice (the same on the prepaid-credits and credit-notes pages): fees, then
coupons, then tax, then credit notes, then prepaid credits."""

import pytest

from tests.lago_docs.conftest import at

pytestmark = pytest.mark.django_db


def test_example_invoice_50_plus_20_minus_10_tax_credit_notes_prepaid_total_16(lago):
    """https://getlago.com/docs/guide/wallet-and-prepaid-credits/overview#application-scope and
    https://getlago.com/docs/guide/invoicing/credit-notes/overview#credit-note-wallet

    EXAMPLE OF INVOICE: all subscription fees $50.00, all usage-based fees $20.00, coupons
    -$10.00 -> subtotal (excl. tax) $60.00; tax (10%) $6.00 -> subtotal (incl. tax) $66.00;
    credit notes $20.00, prepaid credits $30.00 -> total $16.00.

    Replayed in January 2025: a $50 plan (in arrears) with 20 tokens at $1 and a 10% tax on the
    plan; a $10 fixed coupon; $20 of available credit from a credit note on an earlier (untaxed)
    one-off invoice; a wallet of 30 granted credits at $1. The February 1st invoice checks every
    line.
    """
    lago.tax("vat_10", 10.0)
    lago.metric("tokens", "sum_agg", "tokens")
    lago.customer()
    lago.plan(
        "pro",
        5000,
        charges=[lago.charge("tokens", "standard", {"amount": "1"})],
        tax_codes=["vat_10"],
    )
    lago.subscribe(at(2025, 1, 1), "pro")

    # $20 of credit-note credit, from a one-off invoice paid and then credited in full
    lago.post(
        "add_ons",
        {
            "add_on": {
                "code": "setup",
                "name": "Setup",
                "amount_cents": 2000,
                "amount_currency": "USD",
            }
        },
        moment=at(2025, 1, 2),
    )
    one_off = lago.post(
        "invoices",
        {
            "invoice": {
                "external_customer_id": "cust",
                "currency": "USD",
                "fees": [{"add_on_code": "setup", "units": 1}],
            }
        },
        "invoice",
        at(2025, 1, 2),
    )
    assert one_off["total_amount_cents"] == 2000
    paid = lago.api.put(
        f"/api/v1/invoices/{one_off['lago_id']}",
        {"invoice": {"payment_status": "succeeded"}},
        format="json",
    )
    assert paid.status_code == 200
    [fee] = one_off["fees"]
    note = lago.post(
        "credit_notes",
        {
            "credit_note": {
                "invoice_id": one_off["lago_id"],
                "reason": "other",
                "credit_amount_cents": 2000,
                "items": [{"fee_id": fee["lago_id"], "amount_cents": 2000}],
            }
        },
        "credit_note",
        at(2025, 1, 3),
    )
    assert (note["credit_amount_cents"], note["credit_status"]) == (2000, "available")

    coupon = {
        "name": "Ten off",
        "code": "ten_off",
        "coupon_type": "fixed_amount",
        "amount_cents": 1000,
        "amount_currency": "USD",
        "frequency": "once",
    }
    lago.post("coupons", {"coupon": coupon}, moment=at(2025, 1, 4))
    lago.post(
        "applied_coupons",
        {"applied_coupon": {"external_customer_id": "cust", "coupon_code": "ten_off"}},
        moment=at(2025, 1, 4),
    )
    wallet = {
        "external_customer_id": "cust",
        "name": "Prepaid credits",
        "rate_amount": "1.0",
        "granted_credits": "30.0",
        "currency": "USD",
    }
    lago.post("wallets", {"wallet": wallet}, moment=at(2025, 1, 5))

    lago.event(at(2025, 1, 10), "tokens", {"tokens": 20})
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices(invoice_type="subscription")
    assert {
        "fees": invoice["fees_amount_cents"],
        "coupons": invoice["coupons_amount_cents"],
        "subtotal_excl_tax": invoice["sub_total_excluding_taxes_amount_cents"],
        "tax": invoice["taxes_amount_cents"],
        "subtotal_incl_tax": invoice["sub_total_including_taxes_amount_cents"],
        "credit_notes": invoice["credit_notes_amount_cents"],
        "prepaid_credits": invoice["prepaid_credit_amount_cents"],
        "total": invoice["total_amount_cents"],
    } == {
        "fees": 7000,
        "coupons": 1000,
        "subtotal_excl_tax": 6000,
        "tax": 600,
        "subtotal_incl_tax": 6600,
        "credit_notes": 2000,
        "prepaid_credits": 3000,
        "total": 1600,
    }
