"""Lago's minimum commitment (per plan and billing period) and spending minimum (per charge):
a true-up fee for the shortfall, computed in arrears, prorated by days."""

import pytest

from tests.lago_docs.conftest import at

pytestmark = pytest.mark.django_db


def _by_kind(invoice) -> dict[str, int]:
    """Amounts by fee kind: subscription, commitment, each charge, and true-ups as 'true_up'."""
    out: dict[str, int] = {}
    for fee in invoice["fees"]:
        if fee.get("lago_true_up_parent_fee_id"):
            key = "true_up"
        elif fee["item"]["type"] == "charge":
            key = fee["item"]["code"]
        else:
            key = fee["item"]["type"]
        out[key] = out.get(key, 0) + fee["amount_cents"]
    return out


def _usage_only_plan(lago, commitment_cents):
    lago.metric("api_calls", "sum_agg", "calls")
    lago.customer()
    lago.plan(
        "committed",
        0,
        charges=[lago.charge("api_calls", "standard", {"amount": "1"})],
        minimum_commitment={"amount_cents": commitment_cents},
    )
    lago.subscribe(at(2025, 1, 1), "committed")


def test_commitment_500_usage_300_true_up_200(lago):
    """https://getlago.com/docs/guide/plans/commitment#true-up-fee and
    https://getlago.com/docs/guide/revenue-recognition/how-it-works/minimum-commitments#usage-below-the-commitment

    A customer commits to $500 for January but consumes only $300: a true-up fee of the $200
    shortfall is billed at the end of the period; January's total is $500.
    """
    _usage_only_plan(lago, 50000)
    lago.event(at(2025, 1, 10), "api_calls", {"calls": 300})
    lago.beat(at(2025, 2, 1, 0, 5))
    [january] = lago.invoices()
    assert _by_kind(january) == {"api_calls": 30000, "commitment": 20000}
    assert january["total_amount_cents"] == 50000


def test_commitment_500_usage_600_no_true_up(lago):
    """https://getlago.com/docs/guide/revenue-recognition/how-it-works/minimum-commitments#usage-above-the-commitment

    The same $500 commitment with $600 of usage: no shortfall, no true-up; January's total is
    $600.
    """
    _usage_only_plan(lago, 50000)
    lago.event(at(2025, 1, 10), "api_calls", {"calls": 600})
    lago.beat(at(2025, 2, 1, 0, 5))
    [january] = lago.invoices()
    assert _by_kind(january) == {"api_calls": 60000}


def test_the_pages_basic_plan_counts_the_fee_and_every_usage_fee_before_discounts(lago):
    """https://getlago.com/docs/guide/plans/commitment#defining-a-minimum-commitment

    The page's plan "basic": $100 paid in advance, a minimum commitment of $500 ("Minimum
    Contract Commitment", monthly), storage at $1 per unit in arrears, seats at $7 paid in
    advance. The commitment covers the period's total spending — subscription fee and all usage
    fees — before tax and discounts. Replayed in January 2025 with 100 GB of storage and 3 seats:
    $100 + $100 + $21 = $221 spent, a $279 true-up billed in arrears on the February 1st invoice
    (with February's $100 in advance); a $50 coupon on that invoice does not change the true-up.
    """
    lago.metric("storage", "sum_agg", "gb")
    lago.metric("seats", "unique_count_agg", "seat_id")
    lago.customer()
    lago.plan(
        "basic",
        10000,
        pay_in_advance=True,
        minimum_commitment={
            "invoice_display_name": "Minimum Contract Commitment",
            "amount_cents": 50000,
        },
        charges=[
            lago.charge("storage", "standard", {"amount": "1"}),
            lago.charge("seats", "standard", {"amount": "7"}, pay_in_advance=True),
        ],
    )
    lago.subscribe(at(2025, 1, 1), "basic")
    for seat in ("a", "b", "c"):
        lago.event(at(2025, 1, 5), "seats", {"seat_id": seat})
    lago.event(at(2025, 1, 10), "storage", {"gb": 100})
    coupon = {
        "name": "Fifty",
        "code": "fifty",
        "coupon_type": "fixed_amount",
        "amount_cents": 5000,
        "amount_currency": "USD",
        "frequency": "once",
    }
    lago.post("coupons", {"coupon": coupon}, moment=at(2025, 1, 20))
    lago.post(
        "applied_coupons",
        {"applied_coupon": {"external_customer_id": "cust", "coupon_code": "fifty"}},
        moment=at(2025, 1, 20),
    )
    lago.beat(at(2025, 2, 1, 0, 5))
    closing = lago.invoices()[-1]
    assert closing["issuing_date"] == "2025-02-01"
    assert _by_kind(closing) == {"storage": 10000, "subscription": 10000, "commitment": 27900}
    commitment = next(f for f in closing["fees"] if f["item"]["type"] == "commitment")
    assert commitment["item"]["invoice_display_name"] == "Minimum Contract Commitment"


def test_spending_minimum_100_usage_50_true_up_50(lago):
    """https://getlago.com/docs/guide/plans/charges/spending-minimum

    Monthly tracked users at $0.010 each with a $100 spending minimum on the charge
    (min_amount_cents 10000); usage worth $50 (5,000 MTUs) -> a true-up fee of $50, a separate
    line tied to the charge.
    """
    lago.metric("mtu", "sum_agg", "users")
    lago.customer()
    charge = lago.charge("mtu", "standard", {"amount": "0.010"}, min_amount_cents=10000)
    lago.plan("premium", 0, charges=[charge])
    lago.subscribe(at(2025, 1, 1), "premium")
    lago.event(at(2025, 1, 10), "mtu", {"users": 5000})
    lago.beat(at(2025, 2, 1, 0, 5))
    [january] = lago.invoices()
    assert _by_kind(january) == {"mtu": 5000, "true_up": 5000}
    [true_up] = [f for f in january["fees"] if f.get("lago_true_up_parent_fee_id")]
    [parent] = [f for f in january["fees"] if not f.get("lago_true_up_parent_fee_id")]
    assert true_up["lago_true_up_parent_fee_id"] == parent["lago_id"]


def test_spending_minimum_is_prorated_by_days(lago):
    """https://getlago.com/docs/guide/plans/charges/spending-minimum

    Spending minimums and true-up fees are always prorated on the days of the subscription in
    the period. The same $100 minimum for a subscription started January 17th, 2025 (15 of 31
    days): minimum 15/31 x $100 = $48.39; $20 of usage -> a $28.39 true-up (2839 cents).
    """
    lago.metric("mtu", "sum_agg", "users")
    lago.customer()
    charge = lago.charge("mtu", "standard", {"amount": "0.010"}, min_amount_cents=10000)
    lago.plan("premium", 0, charges=[charge])
    lago.subscribe(at(2025, 1, 17, 9), "premium")
    lago.event(at(2025, 1, 20), "mtu", {"users": 2000})
    lago.beat(at(2025, 2, 1, 0, 5))
    [january] = lago.invoices()
    assert _by_kind(january) == {"mtu": 2000, "true_up": 2839}
