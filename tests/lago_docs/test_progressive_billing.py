"""Lago's progressive billing page: usage thresholds (in-arrears charges, before tax) trigger an
invoice of the period's usage not billed yet; the period-end invoice excludes what they billed.
(Thresholds on lifetime usage across periods: test_progressive_lifetime.py.)"""

import pytest

from tests.lago_docs.conftest import at

pytestmark = pytest.mark.django_db


def _plan(lago, thresholds, amount_cents=0, pay_in_advance=False, extra_charges=()):
    lago.metric("api_calls", "sum_agg", "calls")
    lago.customer()
    lago.plan(
        "premium",
        amount_cents,
        pay_in_advance=pay_in_advance,
        charges=[lago.charge("api_calls", "standard", {"amount": "1"}), *extra_charges],
        usage_thresholds=thresholds,
    )
    lago.subscribe(at(2024, 9, 1), "premium")


def _progressive(lago) -> list[dict]:
    return lago.invoices(invoice_type="progressive_billing")


def test_threshold_10_crossed_at_12_invoices_12(lago):
    """https://getlago.com/docs/guide/plans/progressive-billing#invoicing-during-job-execution

    The invoice bills the total usage when the job runs, which may exceed the threshold: a $10
    threshold with the customer's current usage at $12 -> an invoice of $12 (1200 cents),
    finalized at once.
    """
    _plan(lago, [{"amount_cents": 1000}])
    lago.event(at(2024, 9, 3), "api_calls", {"calls": 4})
    assert _progressive(lago) == []
    lago.event(at(2024, 9, 4), "api_calls", {"calls": 8})
    [invoice] = _progressive(lago)
    assert (invoice["status"], invoice["fees_amount_cents"], invoice["total_amount_cents"]) == (
        "finalized",
        1200,
        1200,
    )


def test_the_pages_steps_and_recurring_threshold(lago):
    """https://getlago.com/docs/guide/plans/progressive-billing#setting-up-thresholds

    The page's plan "premium": $100 paid in advance, step thresholds of $5, $50 and $100 (the
    API payload; the prose's list adds $20 and $1,000 from its screenshot) and a recurring
    threshold "Bill every 50 dollars" ($50 after the last step). Each invoice bills the usage not
    billed yet (#excluding-already-billed-usage). September 2024: usage $6 -> $6; $55 -> $49;
    $120 -> $65; $160 (past $150 = $100 + $50) -> $40; the October 1st invoice bills $160 of usage
    minus $160 already billed, plus October's $100 in advance.
    """
    thresholds = [
        {"amount_cents": 500, "threshold_display_name": "Step 1 "},
        {"amount_cents": 5000, "threshold_display_name": "Step 2"},
        {"amount_cents": 10000, "threshold_display_name": "Step 3"},
        {
            "amount_cents": 5000,
            "threshold_display_name": "Bill every 50 dollars",
            "recurring": True,
        },
    ]
    _plan(lago, thresholds, amount_cents=10000, pay_in_advance=True)
    for day, calls in [(3, 6), (5, 49), (8, 65), (12, 40)]:
        lago.event(at(2024, 9, day), "api_calls", {"calls": calls})
    assert [i["total_amount_cents"] for i in _progressive(lago)] == [600, 4900, 6500, 4000]
    lago.beat(at(2024, 10, 1, 0, 5))
    closing = lago.invoices(invoice_type="subscription")[-1]
    assert (
        closing["fees_amount_cents"],
        closing["progressive_billing_credit_amount_cents"],
        closing["total_amount_cents"],
    ) == (26000, 16000, 10000)


def test_charges_paid_in_advance_do_not_count(lago):
    """https://getlago.com/docs/guide/plans/progressive-billing#charges-included-in-the-calculation

    Only charges billed in arrears count toward the lifetime usage: $20 of an in-advance charge
    does not cross a $10 threshold; $12 of the in-arrears charge does.
    """
    lago.metric("seats", "sum_agg", "seats")
    seats = lago.charge("seats", "standard", {"amount": "1"}, pay_in_advance=True)
    _plan(lago, [{"amount_cents": 1000}], extra_charges=[seats])
    lago.event(at(2024, 9, 3), "seats", {"seats": 20})
    assert _progressive(lago) == []
    lago.event(at(2024, 9, 4), "api_calls", {"calls": 12})
    [invoice] = _progressive(lago)
    assert invoice["fees_amount_cents"] == 1200


def test_no_grace_period_and_discounts_apply(lago):
    """https://getlago.com/docs/guide/plans/progressive-billing#grace-period-edge-cases and
    #applying-discounts

    Progressive billing invoices are never drafts (no grace period) and take the available
    discounts: with a 3-day grace period and 5 prepaid credits, a $12 progressive invoice is
    finalized at once with $5 of prepaid credits, $7 due.
    """
    lago.metric("api_calls", "sum_agg", "calls")
    lago.customer(billing_configuration={"invoice_grace_period": 3})
    lago.plan(
        "premium",
        0,
        charges=[lago.charge("api_calls", "standard", {"amount": "1"})],
        usage_thresholds=[{"amount_cents": 1000}],
    )
    lago.subscribe(at(2024, 9, 1), "premium")
    wallet = {
        "external_customer_id": "cust",
        "rate_amount": "1",
        "currency": "USD",
        "granted_credits": "5",
    }
    lago.post("wallets", {"wallet": wallet}, moment=at(2024, 9, 2))
    lago.event(at(2024, 9, 4), "api_calls", {"calls": 12})
    [invoice] = _progressive(lago)
    assert (
        invoice["status"],
        invoice["prepaid_credit_amount_cents"],
        invoice["total_amount_cents"],
    ) == ("finalized", 500, 700)
