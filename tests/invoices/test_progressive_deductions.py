"""Deductions on a period-end invoice after progressive billing, end to end. Lago's order is
fees → progressive-billing credit → coupons → taxes, so a coupon (percentage or fixed) applies to
what is left after the credit for usage already invoiced, never to the gross fees."""

import pytest

from customers.services import customer_upsert
from plans.coupons import applied_coupon_create, coupon_create
from plans.models import AppliedCoupon
from tests.billing_clock import at, run_beat, send, subscribe, totals
from tests.factories import make_metric, make_plan, standard_charge

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscription():
    """$5.00 a month in arrears plus tokens at $0.01, a progressive invoice at $10 of usage.
    April: 1,200 tokens on the 5th (progressive invoice of $12.00), 1,355 more on the 20th."""
    tokens = make_metric("tokens")
    make_plan(
        "pro",
        500,
        charges=[standard_charge(tokens, "0.01")],
        usage_thresholds=[{"amount_cents": 1000}],
    )
    customer_upsert(data={"external_id": "cust", "currency": "USD"})
    subscription = subscribe(at(2024, 4, 1), "pro")
    send(at(2024, 4, 5), "tokens", 1200)
    [progressive] = run_beat(at(2024, 4, 5, 1))
    assert (progressive.invoice_type, progressive.status) == ("progressive_billing", "finalized")
    assert totals(progressive) == (1200, 0, 0, 1200, 0, 1200)
    send(at(2024, 4, 20), "tokens", 1355)
    return subscription


def _coupon(**fields):
    coupon_create(data={"code": "promo", "name": "Promo", **fields})
    return applied_coupon_create(data={"external_customer_id": "cust", "coupon_code": "promo"})


def test_percentage_coupon_applies_after_the_progressive_billing_credit(subscription):
    _coupon(coupon_type="percentage", percentage_rate="10", frequency="forever")
    [april] = run_beat(at(2024, 5, 1, 0, 5))
    # fees: 2,555 tokens = 2,555 c + base 500 c = 3,055; progressive credit 1,200 (billed Apr 5)
    # coupon 10 % x (3,055 - 1,200 = 1,855) = 185.5 -> 186 (not 10 % x 3,055 = 306)
    # subtotal 3,055 - 1,200 - 186 = 1,669
    assert totals(april) == (3055, 1200, 186, 1669, 0, 1669)


def test_fixed_coupon_is_capped_at_what_the_progressive_credit_leaves(subscription):
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
