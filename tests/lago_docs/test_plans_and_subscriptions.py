"""Lago's plan-model, assign-plan and fees pages: billing cycles, first-period pro rata, start
dates in the past and in the future, base fee in advance or in arrears."""

import pytest

from tests.lago_docs.conftest import at, fees_by_type

pytestmark = pytest.mark.django_db


def test_calendar_first_period_is_prorated_22_of_31_days(lago):
    """https://getlago.com/docs/guide/subscriptions/assign-plan#billing-cycles

    Premium plan, $50 monthly, signed up on August 10th (calendar billing): 22 days left
    including August 10th -> 22 x $50 / 31 = $35.48 (3548 cents); the next invoice covers
    September 1st-30th in full. Replayed in August 2024, base fee in arrears.
    """
    lago.customer()
    lago.plan("premium", 5000)
    lago.subscribe(at(2024, 8, 10, 9), "premium")
    lago.beat(at(2024, 9, 1, 0, 5))
    lago.beat(at(2024, 10, 1, 0, 5))
    august, september = lago.invoices()
    assert fees_by_type(august) == {"subscription": 3548}
    assert august["billing_periods"][0]["subscription_from_datetime"].startswith("2024-08-10")
    assert fees_by_type(september) == {"subscription": 5000}
    assert september["billing_periods"][0]["subscription_from_datetime"] == "2024-09-01T00:00:00Z"


def test_anniversary_first_period_runs_august_10_to_september_9(lago):
    """https://getlago.com/docs/guide/subscriptions/assign-plan#billing-cycles

    Signed up on August 10th with anniversary billing: billed every 10th; the first billing
    period runs from August 10th to September 9th, so nothing is billed on September 1st and
    the full $50 is billed on September 10th (no pro rata).
    """
    lago.customer()
    lago.plan("premium", 5000)
    lago.subscribe(at(2024, 8, 10), "premium", billing_time="anniversary")
    lago.beat(at(2024, 9, 1, 0, 5))
    assert lago.invoices() == []
    lago.beat(at(2024, 9, 10, 0, 5))
    [first] = lago.invoices()
    assert first["issuing_date"] == "2024-09-10"
    assert fees_by_type(first) == {"subscription": 5000}
    period = first["billing_periods"][0]
    assert period["subscription_from_datetime"] == "2024-08-10T00:00:00Z"
    assert period["subscription_to_datetime"][:10] in ("2024-09-09", "2024-09-10")


def test_plan_model_pro_rata_april_15_in_arrears(lago):
    """https://getlago.com/docs/guide/plans/plan-model#pro-ratas-based-on-subscription-date

    Plan Start, base amount 10€, no trial, signed up on April 15, 2022, paid in arrears: the
    page says the first month costs 5€, billed at the end of the period (May 1, 2022).
    Adaptation: the page's 5€ is half a month; April 15-30 is 16 of April's 30 days, and the
    page's own rule (a pro rata by days) gives 16 x 10€ / 30 = 5.33€ (533 cents), billed on
    May 1, 2022 — which is what is checked.
    """
    lago.customer(currency="EUR")
    lago.plan("start", 1000, currency="EUR")
    lago.subscribe(at(2022, 4, 15, 10), "start")
    assert lago.invoices() == []
    lago.beat(at(2022, 5, 1, 0, 5))
    [invoice] = lago.invoices()
    assert (invoice["issuing_date"], fees_by_type(invoice)) == ("2022-05-01", {"subscription": 533})


def test_plan_model_pro_rata_april_15_in_advance(lago):
    """https://getlago.com/docs/guide/plans/plan-model#pro-ratas-based-on-subscription-date

    The same plan paid in advance: the customer is charged "5€ straight away" on April 15,
    2022. Adaptation as above: 16 of 30 days -> 5.33€ (533 cents), invoiced on April 15; the
    next invoice (May 1) bills May in advance, 10€.
    """
    lago.customer(currency="EUR")
    lago.plan("start", 1000, currency="EUR", pay_in_advance=True)
    lago.subscribe(at(2022, 4, 15, 10), "start")
    [first] = lago.invoices()
    assert (first["issuing_date"], fees_by_type(first)) == ("2022-04-15", {"subscription": 533})
    lago.beat(at(2022, 5, 1, 0, 5))
    _, may = lago.invoices()
    assert fees_by_type(may) == {"subscription": 1000}


def test_start_date_in_the_past_with_a_fee_in_advance(lago):
    """https://getlago.com/docs/guide/subscriptions/assign-plan#subscription-start-date

    Start date in the past, fee paid in advance: the subscription is active, no invoice is made
    for past periods, the current period's fee counts as already paid, and the next invoice has
    the current period's usage plus the next period's fee. Replayed: $30/month in advance,
    started March 10, 2024, created April 20; 7 tokens at $1 in April -> the May 1 invoice is
    $7 of usage + $30 for May, and nothing else was invoiced.
    """
    lago.metric("tokens", "sum_agg", "tokens")
    lago.customer()
    lago.plan(
        "pro",
        3000,
        pay_in_advance=True,
        charges=[lago.charge("tokens", "standard", {"amount": "1"})],
    )
    subscription = lago.subscribe(at(2024, 4, 20), "pro", subscription_at="2024-03-10T00:00:00Z")
    assert subscription["status"] == "active"
    assert lago.invoices() == []
    lago.event(at(2024, 4, 22), "tokens", {"tokens": 7})
    lago.beat(at(2024, 5, 1, 0, 5))
    [may] = lago.invoices()
    assert fees_by_type(may) == {"tokens": 700, "subscription": 3000}


def test_start_date_in_the_past_with_a_fee_in_arrears(lago):
    """https://getlago.com/docs/guide/subscriptions/assign-plan#subscription-start-date

    Start date in the past, fee paid in arrears: the fee is included in the next invoice,
    together with the current period's usage. Replayed: $30/month in arrears, started March 10,
    2024, created April 20; the May 1 invoice is April's fee ($30) + April's usage ($7).
    """
    lago.metric("tokens", "sum_agg", "tokens")
    lago.customer()
    lago.plan("pro", 3000, charges=[lago.charge("tokens", "standard", {"amount": "1"})])
    lago.subscribe(at(2024, 4, 20), "pro", subscription_at="2024-03-10T00:00:00Z")
    assert lago.invoices() == []
    lago.event(at(2024, 4, 22), "tokens", {"tokens": 7})
    lago.beat(at(2024, 5, 1, 0, 5))
    [april] = lago.invoices()
    assert fees_by_type(april) == {"tokens": 700, "subscription": 3000}


def test_start_date_in_the_future(lago):
    """https://getlago.com/docs/guide/subscriptions/assign-plan#subscription-start-date

    Start date in the future: the subscription is pending. In advance, activation brings an
    invoice for the subscription fee; in arrears, activation brings no invoice and the fee is
    billed at the end of the period. Replayed with two subscriptions starting June 1, 2024
    ($30 in advance, $20 in arrears).
    """
    lago.customer()
    lago.plan("advance", 3000, pay_in_advance=True)
    lago.plan("arrears", 2000)
    ahead = lago.subscribe(
        at(2024, 5, 20), "advance", external_id="a", subscription_at="2024-06-01T00:00:00Z"
    )
    later = lago.subscribe(
        at(2024, 5, 20), "arrears", external_id="b", subscription_at="2024-06-01T00:00:00Z"
    )
    assert (ahead["status"], later["status"]) == ("pending", "pending")
    lago.beat(at(2024, 6, 1, 0, 5))
    [activation] = lago.invoices()
    assert fees_by_type(activation) == {"subscription": 3000}
    assert activation["billing_periods"][0]["external_subscription_id"] == "a"
    lago.beat(at(2024, 7, 1, 0, 5))
    june_arrears = [
        i
        for i in lago.invoices()
        if i["issuing_date"] == "2024-07-01"
        and i["billing_periods"][0]["external_subscription_id"] == "b"
    ]
    assert [fees_by_type(i) for i in june_arrears] == [{"subscription": 2000}]


def test_fee_object_example_11_of_31_days_with_10_percent_tax(lago):
    """https://getlago.com/docs/guide/invoicing/fees

    The page's fee object: a subscription fee paid in advance, plan_amount_cents 1000,
    from_date 2026-01-21T12:00:00+00:00 to 2026-02-01T11:59:59+00:00 (January 21st-31st in a
    UTC-12 zone: 11 of 31 days), precise_amount 3.548387096774193, amount_cents 355, taxes_rate
    10.0, taxes_amount_cents 36 (10% of 355 = 35.5, rounded half up), total_amount_cents 391.
    Replayed with a customer in Etc/GMT+12 (UTC-12) subscribing at 2026-01-21T12:00:00Z with a
    10% tax code.
    """
    lago.tax("vat_10", 10.0)
    lago.customer(timezone="Etc/GMT+12", tax_codes=["vat_10"])
    lago.plan("standard", 1000, pay_in_advance=True)
    lago.subscribe(at(2026, 1, 21, 12), "standard")
    [invoice] = lago.invoices()
    [fee] = invoice["fees"]
    assert fee["item"]["type"] == "subscription"
    assert fee["precise_amount"].startswith("3.548387096774")
    assert (fee["amount_cents"], fee["taxes_amount_cents"], fee["total_amount_cents"]) == (
        355,
        36,
        391,
    )
    assert fee["taxes_rate"] == 10.0
    assert fee["from_date"].startswith("2026-01-21T12:00:00")
    assert invoice["total_amount_cents"] == 391
