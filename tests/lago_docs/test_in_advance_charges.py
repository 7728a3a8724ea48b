"""Lago's charges paid in advance: invoiced as soon as usage arrives (one invoice per event that
costs something), not at the period's end; trials do not hold them back."""

import pytest

from tests.lago_docs.conftest import at, fees_by_type

pytestmark = pytest.mark.django_db


def _subscribe(lago, charge, **plan):
    lago.customer()
    lago.plan("premium", 0, charges=[charge], **plan)
    lago.subscribe(at(2025, 1, 1), "premium")


def _charged(lago) -> list[int]:
    """Totals of the invoices that bill something, in order."""
    return [i["total_amount_cents"] for i in lago.invoices() if i["fees_amount_cents"]]


def test_percentage_in_advance_fourth_transaction_invoiced_0_70(lago):
    """https://getlago.com/docs/guide/plans/charges/arrears-vs-advance#charges-advance and
    https://getlago.com/docs/guide/plans/charges/charge-models/percentage

    In advance, a charge is invoiced on event ingestion. The percentage page's events (1.2%,
    $0.10 per transaction, first 3 events or $500 free): transactions of $200, $100 and $100
    cost nothing; the fourth ($50) is invoiced at once for $0.70 (70 cents).
    """
    lago.metric("transactions", "sum_agg", "amount")
    properties = {
        "rate": "1.2",
        "fixed_amount": "0.1",
        "free_units_per_events": 3,
        "free_units_per_total_aggregation": "500",
    }
    charge = lago.charge("transactions", "percentage", properties, pay_in_advance=True)
    _subscribe(lago, charge)
    for day, amount in [(2, 200), (3, 100), (4, 100)]:
        lago.event(at(2025, 1, day), "transactions", {"amount": amount})
    assert _charged(lago) == []
    lago.event(at(2025, 1, 5), "transactions", {"amount": 50})
    assert _charged(lago) == [70]
    [invoice] = [i for i in lago.invoices() if i["fees_amount_cents"]]
    assert invoice["issuing_date"] == "2025-01-05"
    lago.beat(at(2025, 2, 1, 0, 5))
    assert _charged(lago) == [70]  # not billed again at the period's end


def test_graduated_percentage_per_transaction_205_306_80(lago):
    """https://getlago.com/docs/guide/plans/charges/charge-models/graduated-percentage

    The page prices each transaction as it comes: $500 -> (500 x 1%) + $200 flat = $205.00;
    $550 -> (500 x 1% + 50 x 2%) + $300 flat = $306.00; $4,000 -> 4,000 x 2% = $80.00. Paid in
    advance, each transaction is its own invoice: 20500, 30600 and 8000 cents.
    """
    lago.metric("transactions", "sum_agg", "amount")
    ranges = [
        {"from_value": 0, "to_value": 1000, "rate": "1", "flat_amount": "200"},
        {"from_value": 1001, "to_value": 10000, "rate": "2", "flat_amount": "300"},
        {"from_value": 10001, "to_value": None, "rate": "3", "flat_amount": "400"},
    ]
    charge = lago.charge(
        "transactions",
        "graduated_percentage",
        {"graduated_percentage_ranges": ranges},
        pay_in_advance=True,
    )
    _subscribe(lago, charge)
    for day, amount in [(2, 500), (3, 550), (4, 4000)]:
        lago.event(at(2025, 1, day), "transactions", {"amount": amount})
    assert _charged(lago) == [20500, 30600, 8000]


def test_in_advance_charge_during_a_trial_is_invoiced_at_once(lago):
    """https://getlago.com/docs/guide/plans/plan-model#the-trial-period-optional

    The trial only covers the subscription fee; pay-in-advance charges are invoiced immediately
    after an event is received, trial or not. A 14-day trial and a $5 seat charge in advance: a
    seat added on January 2nd is invoiced on January 2nd for $5.
    """
    lago.metric("seats", "unique_count_agg", "seat_id")
    charge = lago.charge("seats", "standard", {"amount": "5"}, pay_in_advance=True)
    _subscribe(lago, charge, trial_period=14)
    lago.event(at(2025, 1, 2, 9), "seats", {"seat_id": "alice"})
    [invoice] = [i for i in lago.invoices() if i["fees_amount_cents"]]
    assert (invoice["issuing_date"], fees_by_type(invoice)) == ("2025-01-02", {"seats": 500})
