"""Invoices whose lines land exactly on half a minor unit, in USD (2 decimals), JPY (0) and
KWD (3), end to end: subscribe, usage, period close by the beat tasks, finalization. Each fee is
rounded half-up once; the coupon is shared over the fees by largest remainder; each fee's tax is
computed on the fee net of its coupon share and rounded half-up; the breakdown per rate is the sum
of those; the total is the exact sum of the rounded parts (docs/architecture.md, "Rounding")."""

from datetime import timedelta
from decimal import Decimal

import pytest

from core.services import organization_update
from customers.applied_coupons import applied_coupon_create
from customers.services import customer_upsert
from plans.coupons import coupon_create
from taxes.services import tax_create
from tests.billing_clock import at, fee_lines, rates, run_beat, send, subscribe, totals
from tests.factories import make_metric, make_plan, standard_charge

pytestmark = pytest.mark.django_db

START = at(2024, 4, 16)  # April has 30 days: Apr 16-30 is 15/30 of the month
CLOSE = at(2024, 5, 1, 0, 5)


def _half_month_with_usage(currency, base_cents, api_price, api_calls, image_price, images, **plan):
    """A monthly plan in arrears started on Apr 16, two usage charges, a 10 % coupon."""
    api, image = make_metric("api_calls"), make_metric("images")
    make_plan(
        "half",
        base_cents,
        currency=currency,
        charges=[standard_charge(api, api_price), standard_charge(image, image_price)],
        **plan,
    )
    coupon_create(
        data={
            "code": "ten_off",
            "name": "10% off",
            "coupon_type": "percentage",
            "percentage_rate": "10",
            "frequency": "forever",
        }
    )
    applied_coupon_create(data={"external_customer_id": "cust", "coupon_code": "ten_off"})
    subscribe(START, "half")
    send(at(2024, 4, 20), "api_calls", api_calls)
    send(at(2024, 4, 21), "images", images)


def test_usd_invoice_on_half_cents_with_california_sales_tax():
    organization_update(data={"country": "US", "us_tax_states": ["CA"]})
    customer_upsert(data={"external_id": "cust", "currency": "USD", "country": "US", "state": "CA"})
    _half_month_with_usage("USD", 3111, "0.125", 3, "0.015", 47)
    [invoice] = run_beat(CLOSE)
    assert invoice.status == "finalized"
    # lines: 3 x $0.125 = $0.375 -> 38 c; 47 x $0.015 = $0.705 -> 71 c;
    #        $31.11 x 15/30 = $15.555 -> 1,556 c (each 0.5 c, rounded up once)
    # coupon 10 % x (38 + 71 + 1,556 = 1,665) = 166.5 -> 167, shared pro rata:
    #        3.811 / 7.121 / 156.067 -> 3 / 7 / 156 (166)
    #        + 1 to the largest remainder -> 4 / 7 / 156
    # CA 7.25 %: (38-4) 34 -> 2.465 -> 2; (71-7) 64 -> 4.64 -> 5; (1,556-156) 1,400 -> 101.5 -> 102
    assert fee_lines(invoice) == [
        ("Api_Calls", 38, 4, 2),
        ("Images", 71, 7, 5),
        ("Half", 1556, 156, 102),
    ]
    assert rates(invoice) == [("sales_tax_us_ca", Decimal("7.25"), 1498, 109)]
    # 1,665 - 167 = 1,498; + 2 + 5 + 102 = 109 -> 1,607
    assert totals(invoice) == (1665, 0, 167, 1498, 109, 1607)


def test_jpy_invoice_on_half_yen_with_a_customer_tax_after_the_grace_period():
    tax_create(data={"code": "jct_10", "name": "JCT 10%", "rate": "10"})
    customer_upsert(
        data={
            "external_id": "cust",
            "currency": "JPY",
            "country": "JP",
            "tax_codes": ["jct_10"],
            "billing_configuration": {"invoice_grace_period": 2},
        }
    )
    _half_month_with_usage("JPY", 3033, "12.5", 3, "1.5", 33)
    [draft] = run_beat(CLOSE)
    assert draft.status == "draft"
    assert run_beat(CLOSE + timedelta(days=2)) == []  # finalizes the draft, makes no new invoice
    draft.refresh_from_db()
    assert draft.status == "finalized"
    # lines: 3 x 12.5 = 37.5 -> 38 yen; 33 x 1.5 = 49.5 -> 50; 3,033 x 15/30 = 1,516.5 -> 1,517
    # coupon 10 % x 1,605 = 160.5 -> 161, shared 3.81 / 5.02 / 152.17 -> 4 / 5 / 152
    # JCT 10 %: 34 -> 3.4 -> 3; 45 -> 4.5 -> 5; 1,365 -> 136.5 -> 137
    assert fee_lines(draft) == [
        ("Api_Calls", 38, 4, 3),
        ("Images", 50, 5, 5),
        ("Half", 1517, 152, 137),
    ]
    assert rates(draft) == [("jct_10", Decimal(10), 1444, 145)]
    # 1,605 - 161 = 1,444; + 145 = 1,589 yen
    assert totals(draft) == (1605, 0, 161, 1444, 145, 1589)


def test_kwd_invoice_on_half_fils_with_a_plan_tax():
    tax_create(data={"code": "vat_5", "name": "VAT 5%", "rate": "5"})
    customer_upsert(data={"external_id": "cust", "currency": "KWD", "country": "KW"})
    _half_month_with_usage("KWD", 3221, "0.0125", 3, "0.0005", 111, tax_codes=["vat_5"])
    [invoice] = run_beat(CLOSE)
    # lines: 3 x 0.0125 = 0.0375 KWD -> 38 fils; 111 x 0.0005 = 0.0555 -> 56 fils;
    #        3.221 x 15/30 = 1.6105 -> 1,611 fils
    # coupon 10 % x 1,705 = 170.5 -> 171, shared 3.81 / 5.62 / 161.57 -> 3 / 5 / 161 (169)
    #        + 1 each to the two largest remainders -> 4 / 6 / 161
    # VAT 5 %: 34 -> 1.7 -> 2; 50 -> 2.5 -> 3; 1,450 -> 72.5 -> 73
    assert fee_lines(invoice) == [
        ("Api_Calls", 38, 4, 2),
        ("Images", 56, 6, 3),
        ("Half", 1611, 161, 73),
    ]
    assert rates(invoice) == [("vat_5", Decimal(5), 1534, 78)]
    # 1,705 - 171 = 1,534; + 78 = 1,612 fils (1.612 KWD)
    assert totals(invoice) == (1705, 0, 171, 1534, 78, 1612)


@pytest.mark.parametrize(
    ("currency", "unit_price"), [("USD", "0.01"), ("JPY", "1"), ("KWD", "0.001")]
)
def test_spending_minimum_is_prorated_on_a_partial_first_period(currency, unit_price):
    """One unit costs one minor unit; the charge's minimum is 3,001 minor units a month."""
    tokens = make_metric("tokens")
    make_plan(
        "metered",
        0,
        currency=currency,
        charges=[standard_charge(tokens, unit_price, min_amount_cents=3001)],
    )
    customer_upsert(data={"external_id": "cust", "currency": currency})
    subscribe(START, "metered")
    send(at(2024, 4, 20), "tokens", 200)
    [april] = run_beat(CLOSE)
    # minimum 3,001 x 15/30 = 1,500.5; used 200 -> true-up 1,300.5 -> 1,301 (half-up)
    assert [(name, amount) for name, amount, *_ in fee_lines(april)] == [
        ("Tokens", 200),
        ("Tokens — minimum spend true-up", 1301),
    ]
    assert april.total_amount_cents == 1501
    send(at(2024, 5, 20), "tokens", 1000)
    [may] = run_beat(at(2024, 6, 1, 0, 5))
    # a whole month: 3,001 - 1,000 = 2,001
    assert [amount for _, amount, *_ in fee_lines(may)] == [1000, 2001]
    assert may.total_amount_cents == 3001
