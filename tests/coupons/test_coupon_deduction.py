"""Coupons deducted from real subscription invoices (period close, grace period so they stay
drafts): shares per fee, applications, what is left, Lago's order, once per invoice."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from customers.applied_coupons import applied_coupon_create
from customers.services import customer_upsert, subscription_create
from invoices.models import Invoice
from invoices.one_off import one_off_invoice_create
from invoices.services import invoice_finalize, invoice_totals, subscription_bill_due
from invoices.services.coupons import coupons_apply
from plans.addons import add_on_create
from plans.coupons import applied_coupon_used_cents, coupon_create
from plans.models import AppliedCoupon, CouponApplication
from tests.factories import make_metric, make_plan, standard_charge
from usage.services import events_ingest

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def tokens():
    return make_metric("tokens", field_name="tokens")


@pytest.fixture
def gpu():
    return make_metric("gpu_seconds", field_name="seconds")


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


def subscribe(plan_code="pro", external_id="sub", **extra):
    with time_machine.travel(at(2024, 4, 1), tick=False):
        return subscription_create(
            data={
                "external_customer_id": "cust",
                "plan_code": plan_code,
                "external_id": external_id,
                **extra,
            }
        )


def send(moment, code, value, external_id="sub"):
    field = "tokens" if code == "tokens" else "seconds"
    events_ingest(
        raws=[
            {
                "transaction_id": f"{external_id}-{code}-{moment.isoformat()}",
                "external_subscription_id": external_id,
                "code": code,
                "timestamp": moment.isoformat(),
                "properties": {field: value},
            }
        ],
        now=moment,
    )


def bill(subscription, moment) -> Invoice:
    [draft] = subscription_bill_due(subscription_id=subscription.pk, now=moment)
    assert draft.status == "draft"
    return draft


def coupon(code, **fields):
    return coupon_create(data={"name": code.title(), "code": code, **fields})


def apply(code, moment=None, **overrides) -> AppliedCoupon:
    with time_machine.travel(moment or at(2024, 4, 1), tick=False):
        return applied_coupon_create(
            data={"external_customer_id": "cust", "coupon_code": code, **overrides}
        )


def shares(invoice: Invoice) -> list[tuple]:
    return [
        (f.invoice_display_name, f.amount_cents, f.coupons_amount_cents)
        for f in invoice.fees.order_by("id")
    ]


def applications(applied: AppliedCoupon) -> list[int]:
    return list(applied.applications.order_by("id").values_list("amount_cents", flat=True))


def test_percentage_coupon_recurring_for_three_invoices(tokens):
    make_plan("pro", 10000, charges=[standard_charge(tokens, "0.01")])
    subscription = subscribe()
    coupon(
        "ten_off",
        coupon_type="percentage",
        percentage_rate=10,
        frequency="recurring",
        frequency_duration=3,
    )
    applied = apply("ten_off")
    send(at(2024, 4, 10), "tokens", 1235)
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    # 10% of $112.35 = $11.235 → 1124 cents; spread 1235:10000 by largest remainder
    assert coupons_apply(invoice=april) == 1124
    assert shares(april) == [("Tokens", 1235, 124), ("Pro", 10000, 1000)]
    precise = [f.precise_coupons_amount_cents for f in april.fees.order_by("id")]
    assert precise[0] == pytest.approx(Decimal("123.554962171784602"), abs=Decimal("1e-9"))
    assert abs(sum(precise) - 1124) < Decimal("1e-9")  # SQLite keeps ~15 digits
    assert april.coupons_amount_cents == 1124
    invoice_totals(april).save()
    assert april.total_amount_cents == 11235 - 1124
    applied.refresh_from_db()
    assert (applied.status, applied.frequency_duration_remaining) == ("active", 2)
    may = bill(subscription, at(2024, 6, 1, 0, 1))
    june = bill(subscription, at(2024, 7, 1, 0, 1))
    assert [coupons_apply(invoice=may), coupons_apply(invoice=june)] == [1000, 1000]
    applied.refresh_from_db()
    assert (applied.status, applied.frequency_duration_remaining) == ("terminated", 0)
    assert applied.terminated_at is not None
    july = bill(subscription, at(2024, 8, 1, 0, 1))
    assert coupons_apply(invoice=july) == 0
    assert shares(july) == [("Pro", 10000, 0)]
    assert applications(applied) == [1124, 1000, 1000]


def test_fixed_coupon_larger_than_an_invoice_carries_over():
    make_plan("pro", 10000)
    subscription = subscribe()
    coupon("welcome", coupon_type="fixed_amount", amount_cents=15000, amount_currency="USD")
    applied = apply("welcome")
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    assert coupons_apply(invoice=april) == 10000
    invoice_totals(april).save()
    assert (april.fees_amount_cents, april.total_amount_cents) == (10000, 0)  # never below 0
    applied.refresh_from_db()
    assert (applied.status, applied.amount_cents_remaining) == ("active", 5000)
    may = bill(subscription, at(2024, 6, 1, 0, 1))
    assert coupons_apply(invoice=may) == 5000
    applied.refresh_from_db()
    assert (applied.status, applied.amount_cents_remaining) == ("terminated", 0)
    june = bill(subscription, at(2024, 7, 1, 0, 1))
    assert coupons_apply(invoice=june) == 0
    assert applied_coupon_used_cents(applied_coupon=applied) == 15000


def test_fixed_recurring_coupon_loses_what_an_invoice_does_not_use():
    make_plan("pro", 3000)
    subscription = subscribe()
    coupon(
        "monthly_40",
        coupon_type="fixed_amount",
        amount_cents=4000,
        amount_currency="USD",
        frequency="recurring",
        frequency_duration=2,
    )
    applied = apply("monthly_40")
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    may = bill(subscription, at(2024, 6, 1, 0, 1))
    assert [coupons_apply(invoice=april), coupons_apply(invoice=may)] == [3000, 3000]
    applied.refresh_from_db()
    assert (applied.status, applied.amount_cents_remaining) == ("terminated", None)


def test_plan_limited_coupon_touches_only_its_plans_fees(tokens):
    make_plan("pro", 10000, charges=[standard_charge(tokens, "0.01")])
    make_plan("basic", 3000)
    # an override of pro is still pro for the coupon (its catalog plan)
    pro = subscribe("pro", "sub", plan_overrides={"amount_cents": 8000})
    basic = subscribe("basic", "sub_basic")
    coupon(
        "half_pro",
        coupon_type="percentage",
        percentage_rate="50",
        frequency="forever",
        applies_to={"plan_codes": ["pro"]},
    )
    applied = apply("half_pro")
    send(at(2024, 4, 10), "tokens", 1000)
    pro_april = bill(pro, at(2024, 5, 1, 0, 1))
    basic_april = bill(basic, at(2024, 5, 1, 0, 1))
    assert coupons_apply(invoice=basic_april) == 0
    assert shares(basic_april) == [("Basic", 3000, 0)]
    assert coupons_apply(invoice=pro_april) == 4500
    assert shares(pro_april) == [("Tokens", 1000, 500), ("Pro", 8000, 4000)]
    applied.refresh_from_db()
    assert applied.status == "active"  # forever


def test_metric_limited_coupons_go_first_and_no_fee_goes_below_zero(tokens, gpu):
    make_plan("pro", 10000, charges=[standard_charge(tokens, "0.01"), standard_charge(gpu, "0.01")])
    subscription = subscribe()
    coupon("credit_120", coupon_type="fixed_amount", amount_cents=12000, amount_currency="USD")
    coupon(
        "gpu_5",
        coupon_type="fixed_amount",
        amount_cents=500,
        amount_currency="USD",
        applies_to={"billable_metric_codes": ["gpu_seconds"]},
    )
    general = apply("credit_120", at(2024, 4, 1))  # older, but general coupons come last
    gpu_only = apply("gpu_5", at(2024, 4, 2))
    send(at(2024, 4, 10), "tokens", 500)
    send(at(2024, 4, 11), "gpu_seconds", 300)
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    assert coupons_apply(invoice=april) == 10800
    assert shares(april) == [
        ("Tokens", 500, 500),
        ("Gpu_Seconds", 300, 300),
        ("Pro", 10000, 10000),
    ]
    assert (applications(gpu_only), applications(general)) == ([300], [10500])
    gpu_only.refresh_from_db()
    general.refresh_from_db()
    assert (gpu_only.amount_cents_remaining, general.amount_cents_remaining) == (200, 1500)
    invoice_totals(april).save()
    assert april.total_amount_cents == 0


def test_later_coupons_apply_to_what_earlier_ones_left():
    make_plan("pro", 10000)
    subscription = subscribe()
    for code in ("first_60", "second_60"):
        coupon(code, coupon_type="percentage", percentage_rate=60)
    first, second = apply("first_60", at(2024, 4, 1)), apply("second_60", at(2024, 4, 2))
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    assert coupons_apply(invoice=april) == 6000 + 2400
    assert (applications(first), applications(second)) == ([6000], [2400])
    first.refresh_from_db()
    assert first.status == "terminated"  # a "once" percentage coupon is used up


def test_applying_twice_to_an_invoice_changes_nothing(tokens):
    make_plan("pro", 10000, charges=[standard_charge(tokens, "0.01")])
    subscription = subscribe()
    coupon("welcome", coupon_type="fixed_amount", amount_cents=2500, amount_currency="USD")
    applied = apply("welcome")
    send(at(2024, 4, 10), "tokens", 700)
    april = bill(subscription, at(2024, 5, 1, 0, 1))
    assert coupons_apply(invoice=april) == 2500
    before = shares(april)
    again = Invoice.objects.get(pk=april.pk)
    assert coupons_apply(invoice=again) == 2500
    assert again.coupons_amount_cents == 2500
    assert shares(april) == before
    assert CouponApplication.objects.filter(invoice=april).count() == 1
    applied.refresh_from_db()
    assert applied.amount_cents_remaining == 0


def test_one_off_and_finalized_invoices_get_no_coupon():
    make_plan("pro", 10000)
    subscription = subscribe()
    april = invoice_finalize(invoice=bill(subscription, at(2024, 5, 1, 0, 1)))
    coupon("welcome", coupon_type="fixed_amount", amount_cents=2500, amount_currency="USD")
    applied = apply("welcome", at(2024, 5, 2))
    assert april.status == "finalized"
    assert coupons_apply(invoice=april) == 0  # a finalized invoice never changes
    add_on_create(
        data={
            "name": "GPU pack",
            "code": "gpu_pack_10h",
            "amount_cents": 25000,
            "amount_currency": "USD",
        }
    )
    one_off = one_off_invoice_create(
        data={"external_customer_id": "cust", "fees": [{"add_on_code": "gpu_pack_10h"}]}
    )
    assert one_off.total_amount_cents == 25000
    assert coupons_apply(invoice=one_off) == 0
    assert not CouponApplication.objects.exists()
    applied.refresh_from_db()
    assert (applied.status, applied.amount_cents_remaining) == ("active", 2500)


def test_finalization_deducts_the_coupons_once(tokens):
    make_plan("pro", 10000, charges=[standard_charge(tokens, "0.01")])
    subscription = subscribe()
    coupon("welcome", coupon_type="fixed_amount", amount_cents=2500, amount_currency="USD")
    applied = apply("welcome")
    send(at(2024, 4, 10), "tokens", 700)
    draft = bill(subscription, at(2024, 5, 1, 0, 1))
    invoice = invoice_finalize(invoice=draft, now=at(2024, 5, 2))
    assert (invoice.status, invoice.coupons_amount_cents) == ("finalized", 2500)
    assert invoice.total_amount_cents == 10700 - 2500
    assert sum(fee.coupons_amount_cents for fee in invoice.fees.all()) == 2500
    assert invoice_finalize(invoice=invoice).coupons_amount_cents == 2500
    assert applications(applied) == [2500]
