"""Deductions on a period-end invoice after progressive billing, end to end. Lago's order is
fees → progressive-billing credit → coupons → taxes, so a coupon (percentage or fixed) applies to
what is left after the credit for usage already invoiced, never to the gross fees, and taxes
apply to what is left after both: the usage billed progressively was taxed on its own invoice."""

from decimal import Decimal

import pytest

from core.services import organization_update
from customers.applied_coupons import applied_coupon_create
from customers.services import customer_upsert
from plans.coupons import coupon_create
from plans.models import AppliedCoupon
from tests.billing_clock import at, fee_lines, rates, run_beat, send, subscribe, totals
from tests.factories import make_metric, make_plan, standard_charge

pytestmark = pytest.mark.django_db


def _april_with_a_progressive_invoice(**customer):
    """$5.00 a month in arrears plus tokens at $0.01, a progressive invoice at $10 of usage.
    April: 1,200 tokens on the 5th (progressive invoice of $12.00), 1,355 more on the 20th."""
    tokens = make_metric("tokens")
    make_plan(
        "pro",
        500,
        charges=[standard_charge(tokens, "0.01")],
        usage_thresholds=[{"amount_cents": 1000}],
    )
    customer_upsert(data={"external_id": "cust", "currency": "USD", **customer})
    subscribe(at(2024, 4, 1), "pro")
    send(at(2024, 4, 5), "tokens", 1200)
    [progressive] = run_beat(at(2024, 4, 5, 1))
    assert (progressive.invoice_type, progressive.status) == ("progressive_billing", "finalized")
    send(at(2024, 4, 20), "tokens", 1355)
    return progressive


def _coupon(**fields):
    coupon_create(data={"code": "promo", "name": "Promo", **fields})
    return applied_coupon_create(data={"external_customer_id": "cust", "coupon_code": "promo"})


def test_percentage_coupon_applies_after_the_progressive_billing_credit():
    progressive = _april_with_a_progressive_invoice()
    assert totals(progressive) == (1200, 0, 0, 1200, 0, 1200)
    _coupon(coupon_type="percentage", percentage_rate="10", frequency="forever")
    [april] = run_beat(at(2024, 5, 1, 0, 5))
    # fees: 2,555 tokens = 2,555 c + base 500 c = 3,055; progressive credit 1,200 (billed Apr 5)
    # coupon 10 % x (3,055 - 1,200 = 1,855) = 185.5 -> 186 (not 10 % x 3,055 = 306)
    # subtotal 3,055 - 1,200 - 186 = 1,669
    assert totals(april) == (3055, 1200, 186, 1669, 0, 1669)
    # the credit goes to the tokens fee it billed; the coupon is shared over what is left of
    # each fee: 186 x 1,355 / 1,855 = 135.87 and 186 x 500 / 1,855 = 50.13 -> 135 / 50, + 1 to
    # the largest remainder -> 136 / 50
    assert fee_lines(april) == [("Tokens", 2555, 136, 0), ("Pro", 500, 50, 0)]


def test_fixed_coupon_is_capped_at_what_the_progressive_credit_leaves():
    _april_with_a_progressive_invoice()
    applied = _coupon(
        coupon_type="fixed_amount", amount_cents=2500, amount_currency="USD", frequency="once"
    )
    [april] = run_beat(at(2024, 5, 1, 0, 5))
    # 3,055 - 1,200 = 1,855 left: the $25.00 coupon takes 1,855 (not 2,500), nothing is due
    assert totals(april) == (3055, 1200, 1855, 0, 0, 0)
    applied.refresh_from_db()
    assert (applied.status, applied.amount_cents_remaining) == ("active", 645)
    [may] = run_beat(at(2024, 6, 1, 0, 5))  # no usage in May: the base fee only
    # the 645 c carried over take the whole 500 c; 145 c remain
    assert totals(may) == (500, 0, 500, 0, 0, 0)
    assert AppliedCoupon.objects.get(pk=applied.pk).amount_cents_remaining == 145


def test_usage_billed_progressively_is_not_taxed_again_at_the_period_end():
    organization_update(data={"country": "DE"})
    progressive = _april_with_a_progressive_invoice(country="DE", customer_type="individual")
    # VAT 19 % x 1,200 = 228 on the progressive invoice
    assert totals(progressive) == (1200, 0, 0, 1200, 228, 1428)
    _coupon(coupon_type="percentage", percentage_rate="10", frequency="forever")
    [april] = run_beat(at(2024, 5, 1, 0, 5))
    # credit 1,200 on the tokens fee, coupon 186 shared 136 / 50 (as above); VAT 19 % on
    # tokens 2,555 - 1,200 - 136 = 1,219 -> 231.61 -> 232; base 500 - 50 = 450 -> 85.5 -> 86
    assert fee_lines(april) == [("Tokens", 2555, 136, 232), ("Pro", 500, 50, 86)]
    assert rates(april) == [("vat_de", Decimal(19), 1669, 318)]
    # 1,669 + 318 = 1,987; with the progressive invoice's 228, VAT is 546 in all, about
    # 19 % of the 2,869 billed net of coupons (545.11), not 228 + 545 = 773
    assert totals(april) == (3055, 1200, 186, 1669, 318, 1987)


def test_credit_notes_on_the_period_invoice_give_back_only_what_it_billed(api):
    """Usage billed by a progressive invoice is credited there, not again on the period-end
    invoice, whose taxes were computed on the fee net of that share (19 % VAT)."""
    organization_update(data={"country": "DE"})
    _april_with_a_progressive_invoice(country="DE", customer_type="individual")
    [april] = run_beat(at(2024, 5, 1, 0, 5))
    tokens = april.fees.get(invoice_display_name="Tokens")
    # tokens fee 2,555, of which 1,200 billed (and taxed) by the progressive invoice
    body = {"credit_note": {"invoice_id": str(april.lago_id), "reason": "other"}}
    too_much = {"items": [{"fee_id": str(tokens.lago_id), "amount_cents": 1356}]}
    body["credit_note"] |= too_much
    response = api.post("/api/v1/credit_notes", body, format="json")
    assert response.status_code == 422
    assert response.json()["error_details"] == {
        "amount_cents": ["higher_than_remaining_fee_amount"]
    }
    body["credit_note"]["items"] = [{"fee_id": str(tokens.lago_id), "amount_cents": 1355}]
    note = api.post("/api/v1/credit_notes", body, format="json").json()["credit_note"]
    # 1,355 back at 19 % = 257.45 -> 257: exactly the VAT this invoice charged on the fee
    assert (note["sub_total_excluding_taxes_amount_cents"], note["taxes_amount_cents"]) == (
        1355,
        257,
    )
    assert tokens.applied_taxes.get().amount_cents == 257
