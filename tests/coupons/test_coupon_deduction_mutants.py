"""Coupon deduction corners that mutation testing found unchecked (docs/testing.md, "Mutation
testing"): Lago's order of the three kinds of coupons, another customer's coupons, another
currency, one cent, nothing to discount, the largest remainder, two coupons on one fee."""

import pytest
import time_machine

from customers.services import customer_upsert, subscription_create
from invoices.services import subscription_bill_due
from invoices.services.coupons import coupons_apply
from plans.models import CouponApplication
from tests.coupons.test_coupon_deduction import (
    applications,
    apply,
    at,
    bill,
    coupon,
    send,
    shares,
    subscribe,
)
from tests.factories import make_metric, make_plan, standard_charge

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def customer():
    customer, _ = customer_upsert(
        data={
            "external_id": "cust",
            "currency": "USD",
            "billing_configuration": {"invoice_grace_period": 3},  # invoices stay drafts
        }
    )
    return customer


@pytest.fixture
def tokens():
    return make_metric("tokens", field_name="tokens")


def test_metric_then_plan_then_general_whatever_the_order_they_were_applied_in(tokens):
    make_plan("pro", 10000, charges=[standard_charge(tokens, "0.01")])
    subscription = subscribe()
    coupon("general_50", coupon_type="fixed_amount", amount_cents=5000, amount_currency="USD")
    coupon(
        "pro_half", coupon_type="percentage", percentage_rate=50, applies_to={"plan_codes": ["pro"]}
    )
    coupon(
        "tokens_5",
        coupon_type="fixed_amount",
        amount_cents=500,
        amount_currency="USD",
        applies_to={"billable_metric_codes": ["tokens"]},
    )
    general = apply("general_50", at(2024, 4, 1))  # oldest, yet last
    plan_limited = apply("pro_half", at(2024, 4, 2))
    metric_limited = apply("tokens_5", at(2024, 4, 3))  # newest, yet first
    send(at(2024, 4, 10), "tokens", 1000)
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    # tokens 1,000 + pro 10,000. Metric: 500 off tokens (500 left); plan: 50 % of 10,500 = 5,250
    # (5,250 left); general: 5,000. Any other order gives 11,000 or 8,250.
    assert coupons_apply(invoice=april) == 500 + 5250 + 5000
    assert [applications(metric_limited), applications(plan_limited), applications(general)] == [
        [500],
        [5250],
        [5000],
    ]


def test_another_customers_coupon_is_not_deducted():
    make_plan("pro", 10000)
    subscription = subscribe()
    customer_upsert(data={"external_id": "other", "currency": "USD"})
    coupon("welcome", coupon_type="fixed_amount", amount_cents=2500, amount_currency="USD")
    apply("welcome", external_customer_id="other")
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    assert coupons_apply(invoice=april) == 0
    assert not CouponApplication.objects.exists()


def test_a_fixed_coupon_in_another_currency_is_not_deducted():
    # a customer without a currency yet may take a EUR coupon, then subscribe in USD
    customer_upsert(
        data={"external_id": "new", "billing_configuration": {"invoice_grace_period": 3}}
    )
    make_plan("pro", 10000)
    coupon("euros", coupon_type="fixed_amount", amount_cents=2500, amount_currency="EUR")
    applied = apply("euros", external_customer_id="new")
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "new", "plan_code": "pro", "external_id": "sub_new"}
        )
    [april] = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    assert (april.currency, april.status) == ("USD", "draft")
    assert coupons_apply(invoice=april) == 0
    assert applications(applied) == []


def test_one_cent_left_is_discounted():
    make_plan("penny", 1)
    subscription = subscribe("penny")
    coupon("welcome", coupon_type="fixed_amount", amount_cents=500, amount_currency="USD")
    applied = apply("welcome")
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    assert coupons_apply(invoice=april) == 1
    applied.refresh_from_db()
    assert applied.amount_cents_remaining == 499


def test_a_percentage_that_rounds_to_nothing_takes_nothing():
    # 10 % of 4 cents = 0.4 -> 0 (half-up): the coupon takes 0, not a cent
    make_plan("tiny", 4)
    subscription = subscribe("tiny")
    coupon("ten", coupon_type="percentage", percentage_rate=10)
    apply("ten")
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    assert coupons_apply(invoice=april) == 0
    assert shares(april) == [("Tiny", 4, 0)]


def test_nothing_to_discount_leaves_the_coupon_unused():
    make_plan("free", 0)
    subscription = subscribe("free")
    coupon("ten", coupon_type="percentage", percentage_rate=10)
    applied = apply("ten")
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    assert coupons_apply(invoice=april) == 0
    applied.refresh_from_db()
    assert applied.status == "active"  # a "once" coupon is not used up by an empty invoice
    assert applications(applied) == []


def test_the_odd_cent_goes_to_the_largest_remainder_not_the_first_fee(tokens):
    make_plan("pro", 200, charges=[standard_charge(tokens, "0.01")])
    subscription = subscribe()
    coupon("dime", coupon_type="fixed_amount", amount_cents=10, amount_currency="USD")
    apply("dime")
    send(at(2024, 4, 10), "tokens", 100)
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    # 10 over tokens 100 and pro 200: exactly 3.33 and 6.67 -> 3 + 6, the odd cent to 6.67
    assert coupons_apply(invoice=april) == 10
    assert shares(april) == [("Tokens", 100, 3), ("Pro", 200, 7)]


def test_two_coupons_on_one_fee_add_up_on_it():
    make_plan("pro", 10000)
    subscription = subscribe()
    for code in ("first_60", "second_60"):
        coupon(code, coupon_type="percentage", percentage_rate=60)
    apply("first_60", at(2024, 4, 1))
    apply("second_60", at(2024, 4, 2))
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    # 60 % of 10,000 = 6,000, then 60 % of the 4,000 left = 2,400: 8,400 on the one fee
    assert coupons_apply(invoice=april) == 8400
    assert shares(april) == [("Pro", 10000, 8400)]
