"""Lago's coupons page: fixed and percentage coupons, once / recurring / forever, limited to plans
or billable metrics, several coupons in Lago's order, deducted before tax from subscription
invoices. The page gives the rules and two coupon payloads, not invoice amounts: each test
applies a rule to a small monthly plan and checks the coupon amounts of successive invoices."""

import pytest

from tests.lago_docs.conftest import at, fees_by_type

pytestmark = pytest.mark.django_db


def _coupon(lago, code, moment=None, **body):
    return lago.post("coupons", {"coupon": {"name": code, "code": code, **body}}, "coupon", moment)


def _apply(lago, code, moment=None, customer="cust", **overrides):
    body = {"external_customer_id": customer, "coupon_code": code, **overrides}
    return lago.post("applied_coupons", {"applied_coupon": body}, "applied_coupon", moment)


def _applied(lago) -> dict[str, dict]:
    found = lago.get("applied_coupons?external_customer_id=cust", "applied_coupons")
    return {a["coupon_code"]: a for a in found}


def _months(lago, year, first, last):
    for month in range(first, last + 1):
        lago.beat(at(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, 0, 5))


def test_fixed_coupon_once_carries_its_remainder_over(lago):
    """https://getlago.com/docs/guide/coupons#application-scope

    A fixed-amount coupon applied once whose value exceeds the invoice carries the remainder
    over to the following invoices until it is consumed: $50 against $30 invoices -> $30,
    then $20, then nothing.
    """
    lago.customer()
    lago.plan("basic", 3000)
    lago.subscribe(at(2024, 1, 1), "basic")
    _coupon(
        lago,
        "fifty_once",
        coupon_type="fixed_amount",
        amount_cents=5000,
        amount_currency="USD",
        frequency="once",
    )
    _apply(lago, "fifty_once")
    _months(lago, 2024, 2, 4)
    invoices = lago.invoices()
    assert [i["coupons_amount_cents"] for i in invoices] == [3000, 2000, 0]
    assert [i["total_amount_cents"] for i in invoices] == [0, 1000, 3000]


def test_fixed_coupon_recurring_loses_its_unused_remainder(lago):
    """https://getlago.com/docs/guide/coupons#application-scope

    A recurring fixed-amount coupon larger than the invoice loses what is unused, even in its
    last period: $50 for 2 periods against $30 invoices -> $30, $30, then nothing.
    """
    lago.customer()
    lago.plan("basic", 3000)
    lago.subscribe(at(2024, 1, 1), "basic")
    _coupon(
        lago,
        "fifty_twice",
        coupon_type="fixed_amount",
        amount_cents=5000,
        amount_currency="USD",
        frequency="recurring",
        frequency_duration=2,
    )
    _apply(lago, "fifty_twice")
    _months(lago, 2024, 2, 4)
    assert [i["coupons_amount_cents"] for i in lago.invoices()] == [3000, 3000, 0]


def test_percentage_coupon_once_and_forever(lago):
    """https://getlago.com/docs/guide/coupons#create-coupon

    The page's percentage coupon "deal_10" (10%, frequency once) takes 10% of one invoice; a
    coupon can also apply forever. Both on one customer, on $30 invoices: the first invoice
    takes deal_10's $3 (applied first), then 20% of the $27 left, $5.40 (Lago deducts coupons
    one after the other, each from what the previous ones left) = $8.40; later invoices 20% of
    $30 = $6.
    """
    lago.customer()
    lago.plan("basic", 3000)
    lago.subscribe(at(2024, 1, 1), "basic")
    _coupon(
        lago,
        "deal_10",
        coupon_type="percentage",
        percentage_rate="10",
        frequency="once",
        expiration="no_expiration",
        reusable=True,
    )
    _coupon(lago, "always_20", coupon_type="percentage", percentage_rate="20", frequency="forever")
    _apply(lago, "deal_10")
    _apply(lago, "always_20")
    _months(lago, 2024, 2, 4)
    assert [i["coupons_amount_cents"] for i in lago.invoices()] == [840, 600, 600]


def test_startup_deal_limited_to_premium_with_the_pages_override(lago):
    """https://getlago.com/docs/guide/coupons#apply-coupons

    The page's coupon: "startup_deal", $50 fixed, recurring for 6 periods, expiring
    2022-08-08T23:59:59Z, limited to plan "premium"; applied with the page's overrides: 6000
    cents in EUR, recurring for 3 periods. A coupon applied to a customer keeps applying after
    its expiration date. Replayed: premium at €100/month (in arrears) from July 1st, 2022, and a
    "basic" plan on a second subscription: the premium invoices of August, September and
    October 2022 get €60 off, November's nothing; basic's invoices never.
    """
    lago.customer(currency="EUR")
    lago.plan("premium", 10000, currency="EUR")
    lago.plan("basic", 3000, currency="EUR")
    lago.subscribe(at(2022, 7, 1), "premium", external_id="premium_sub")
    lago.subscribe(at(2022, 7, 1), "basic", external_id="basic_sub")
    _coupon(
        lago,
        "startup_deal",
        at(2022, 7, 1),
        amount_cents=5000,
        amount_currency="USD",
        coupon_type="fixed_amount",
        reusable=True,
        frequency="recurring",
        frequency_duration=6,
        expiration="time_limit",
        expiration_at="2022-08-08T23:59:59Z",
        applies_to={"plan_codes": ["premium"], "billable_metric_codes": []},
    )
    _apply(
        lago,
        "startup_deal",
        at(2022, 7, 2),
        amount_cents=6000,
        amount_currency="EUR",
        frequency="recurring",
        frequency_duration=3,
    )
    _months(lago, 2022, 8, 11)
    premium = [
        i
        for i in lago.invoices()
        if i["billing_periods"][0]["external_subscription_id"] == "premium_sub"
    ]
    basic = [i for i in lago.invoices() if i not in premium]
    assert [i["coupons_amount_cents"] for i in premium] == [6000, 6000, 6000, 0]
    assert [i["total_amount_cents"] for i in premium] == [4000, 4000, 4000, 10000]
    assert {i["coupons_amount_cents"] for i in basic} == {0}


def test_coupon_limited_to_a_billable_metric(lago):
    """https://getlago.com/docs/guide/coupons#create-coupon

    A coupon limited to billable metrics discounts only those metrics' fees: $50 limited to
    "tokens" on an invoice of $30 base fee + $20 of tokens -> $20 off (the tokens fee), the base
    fee untouched.
    """
    lago.metric("tokens", "sum_agg", "tokens")
    lago.customer()
    lago.plan("basic", 3000, charges=[lago.charge("tokens", "standard", {"amount": "1"})])
    lago.subscribe(at(2024, 1, 1), "basic")
    _coupon(
        lago,
        "tokens_50",
        coupon_type="fixed_amount",
        amount_cents=5000,
        amount_currency="USD",
        frequency="recurring",
        frequency_duration=1,
        applies_to={"billable_metric_codes": ["tokens"]},
    )
    _apply(lago, "tokens_50")
    lago.event(at(2024, 1, 10), "tokens", {"tokens": 20})
    _months(lago, 2024, 2, 2)
    [invoice] = lago.invoices()
    assert fees_by_type(invoice) == {"tokens": 2000, "subscription": 3000}
    assert (invoice["coupons_amount_cents"], invoice["total_amount_cents"]) == (2000, 3000)


def test_plans_or_metrics_not_both(lago):
    """https://getlago.com/docs/guide/coupons#create-coupon

    A coupon limited to both plans and billable metrics is refused with
    only_one_limitation_type_per_coupon_allowed.
    """
    lago.metric("tokens", "sum_agg", "tokens")
    lago.plan("basic", 3000)
    response = lago.api.post(
        "/api/v1/coupons",
        {
            "coupon": {
                "name": "both",
                "code": "both",
                "coupon_type": "percentage",
                "percentage_rate": "10",
                "frequency": "once",
                "applies_to": {"plan_codes": ["basic"], "billable_metric_codes": ["tokens"]},
            }
        },
        format="json",
    )
    assert response.status_code == 422
    assert "only_one_limitation_type_per_coupon_allowed" in str(response.json())


def test_several_coupons_metric_limited_then_plan_limited_then_general(lago):
    """https://getlago.com/docs/guide/coupons#application-scope

    Several coupons are deducted in this order: limited to billable metrics first, limited to
    plans next, then the general ones by application date. Three $30 "once" coupons applied in
    the opposite order (general, plan-limited, metric-limited) on an invoice of $40 base fee +
    $20 of tokens: the metric coupon takes $20 (the tokens fee; $10 left), the plan coupon $30,
    the general one the last $10 ($20 left) -> $60 off, nothing due.
    """
    lago.metric("tokens", "sum_agg", "tokens")
    lago.customer()
    lago.plan("basic", 4000, charges=[lago.charge("tokens", "standard", {"amount": "1"})])
    lago.subscribe(at(2024, 1, 1), "basic")
    fixed = {
        "coupon_type": "fixed_amount",
        "amount_cents": 3000,
        "amount_currency": "USD",
        "frequency": "once",
    }
    _coupon(lago, "general", **fixed)
    _coupon(lago, "for_basic", applies_to={"plan_codes": ["basic"]}, **fixed)
    _coupon(lago, "for_tokens", applies_to={"billable_metric_codes": ["tokens"]}, **fixed)
    for day, code in [(2, "general"), (3, "for_basic"), (4, "for_tokens")]:
        _apply(lago, code, at(2024, 1, day))
    lago.event(at(2024, 1, 10), "tokens", {"tokens": 20})
    _months(lago, 2024, 2, 2)
    [invoice] = lago.invoices()
    assert (invoice["coupons_amount_cents"], invoice["total_amount_cents"]) == (6000, 0)
    remaining = {code: a["amount_cents_remaining"] for code, a in _applied(lago).items()}
    assert remaining == {"for_tokens": 1000, "for_basic": 0, "general": 2000}


def test_coupon_is_deducted_before_tax(lago):
    """https://getlago.com/docs/guide/coupons

    The coupon's value is deducted from the invoice amount before tax: $100 of fees, a $10
    coupon, 20% tax -> tax $18 (on $90), total $108.
    """
    lago.tax("vat_20", 20.0)
    lago.customer(tax_codes=["vat_20"])
    lago.plan("basic", 10000)
    lago.subscribe(at(2024, 1, 1), "basic")
    _coupon(
        lago,
        "ten_off",
        coupon_type="fixed_amount",
        amount_cents=1000,
        amount_currency="USD",
        frequency="once",
    )
    _apply(lago, "ten_off")
    _months(lago, 2024, 2, 2)
    [invoice] = lago.invoices()
    assert (
        invoice["fees_amount_cents"],
        invoice["coupons_amount_cents"],
        invoice["sub_total_excluding_taxes_amount_cents"],
        invoice["taxes_amount_cents"],
        invoice["total_amount_cents"],
    ) == (10000, 1000, 9000, 1800, 10800)
