"""Fee computation corners that mutation testing found unchecked (docs/testing.md, "Mutation
testing"): the days a trial's base fee paid for, the tiers recorded on a usage fee, a minimum
commitment measured against its own subscription's fees of its own period."""

import io
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command

from customers.services import customer_upsert
from invoices.models import CreditNote, Invoice
from invoices.services import subscription_bill_due
from tests.billing_clock import at, run_beat, send, subscribe
from tests.factories import make_metric, make_plan, standard_charge
from tests.invoices.test_plan_changes import subscribe as api_subscribe
from tests.invoices.test_plan_changes import terminate
from tests.invoices.test_prorated_charges import create_seat_plan, seat_event, subscribe_api
from usage.services import events_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def customer():
    customer_upsert(data={"external_id": "cust", "currency": "USD"})


def test_a_trials_advance_fee_pays_from_the_trials_end(api):
    # $30.00 a month in advance, 10 days of trial from October 1: October 11-31 billed,
    # 21/31 x 3,000 = 2,032.26 -> 2,032. Terminated October 20: October 11-20 used,
    # 10/31 x 3,000 = 967.74 -> 968, so 2,032 - 968 = 1,064 back (not the days before the trial)
    make_plan("pro", 3000, pay_in_advance=True, trial_period=10)
    subscribe(at(2024, 10, 1), "pro")
    with time_machine.travel(at(2024, 10, 11, 0, 5), tick=False):
        call_command("bill_due", stdout=io.StringIO())
    assert terminate(api, at(2024, 10, 20, 15)).status_code == 200
    [note] = CreditNote.objects.all()
    fee = note.invoice.fees.get(fee_type="subscription")
    assert (fee.amount_cents, fee.pay_in_advance, fee.description) == (2032, True, "Pro")
    assert fee.precise_unit_amount == fee.precise_amount  # $20.3225806... (21/31 of $30)
    assert round(fee.precise_amount, 10) == round(Decimal(30) * 21 / 31, 10)
    assert fee.amount_details == {
        "plan_amount_cents": 3000,
        "base_amount": "30.00",
        "prorata": "21/31",
        "from_date": "2024-10-11",
        "to_date": "2024-10-31",
        "days": 21,
        "period_days": 31,
    }
    assert note.total_amount_cents == 1064


def test_a_usage_fee_records_its_tiers():
    calls = make_metric("calls")
    ranges = [
        {"from_value": 0, "to_value": 100, "per_unit_amount": "1", "flat_amount": "5"},
        {"from_value": 101, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "0"},
    ]
    charge = {
        "billable_metric_id": str(calls.lago_id),
        "charge_model": "graduated",
        "properties": {"graduated_ranges": ranges},
    }
    make_plan("tiered", 0, charges=[charge])
    subscribe(at(2025, 1, 1), "tiered")
    send(at(2025, 1, 10), "calls", 150)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    fee = january.fees.get(fee_type="charge")
    # 100 x 1 + 5, then 50 x 0.5: 105 + 25 = 130 dollars, for January
    assert fee.amount_cents == 13000
    assert (fee.from_datetime, fee.to_datetime) == (at(2025, 1, 1), at(2025, 2, 1))
    assert fee.amount_details == {  # Lago's FeeAmountDetails
        "graduated_ranges": [
            {
                "from_value": 0,
                "to_value": 100,
                "flat_unit_amount": "5",
                "per_unit_amount": "1",
                "units": "100",
                "per_unit_total_amount": "100",
                "total_with_flat_amount": "105",
            },
            {
                "from_value": 101,
                "to_value": None,
                "flat_unit_amount": "0",
                "per_unit_amount": "0.5",
                "units": "50",
                "per_unit_total_amount": "25",
                "total_with_flat_amount": "25",
            },
        ]
    }


def test_a_commitment_counts_its_own_subscriptions_fees_of_its_own_period():
    calls = make_metric("calls")
    make_plan(
        "committed",
        0,
        charges=[standard_charge(calls, "1")],
        minimum_commitment={"amount_cents": 50000},
    )
    customer_upsert(data={"external_id": "other", "currency": "USD"})
    subscribe(at(2025, 1, 1), "committed", external_id="theirs", customer="other")  # billed first
    subscribe(at(2025, 1, 1), "committed")
    send(at(2025, 1, 10), "calls", 450, external_id="theirs")
    send(at(2025, 1, 10), "calls", 300)
    send(at(2025, 2, 10), "calls", 100)

    def true_ups(invoices, customer="cust"):
        return [
            f.amount_cents
            for i in invoices
            if i.customer.external_id == customer
            for f in i.fees.filter(fee_type="commitment")
        ]

    january = run_beat(at(2025, 2, 1, 0, 5))
    # ours: 50,000 - 30,000 = 20,000; theirs: 50,000 - 45,000 = 5,000 (not counted for us)
    assert (true_ups(january), true_ups(january, "other")) == ([20000], [5000])
    february = run_beat(at(2025, 3, 1, 0, 5))
    # February alone: 50,000 - 10,000 = 40,000 (January's fees are not February's)
    assert true_ups(february) == [40000]


def test_prorated_lines_record_their_amount_and_only_graduated_ones_a_tier(api):
    one_tier = {"from_value": 0, "to_value": None, "per_unit_amount": "10", "flat_amount": "0"}
    create_seat_plan(
        api,
        [
            ("graduated", {"graduated_ranges": [one_tier]}, {"prorated": True}),
            ("standard", {"amount": "10"}, {"prorated": True, "code": "seats_standard"}),
        ],
    )
    subscribe_api(api, at(2024, 9, 1))
    seat_event(api, at(2024, 9, 16, 10), "alice")  # September 16-30: 15 of 30 days
    [invoice] = run_beat(at(2024, 10, 1, 0, 5))
    # 1 seat x 15/30 x $10 = $5.00 on each charge
    graduated, standard = invoice.fees.order_by("id")
    assert (graduated.amount_cents, standard.amount_cents) == (500, 500)
    line = {"units": "1", "days": 15, "period_days": 30, "per_unit_amount": "10", "amount": "5"}
    assert graduated.amount_details["prorated"] == [line | {"tier": 0}]
    assert standard.amount_details["prorated"] == [line]


def test_usage_inside_a_free_tier_is_a_fee_of_zero_with_its_units():
    calls = make_metric("calls")
    ranges = [
        {"from_value": 0, "to_value": 1000, "per_unit_amount": "0", "flat_amount": "0"},
        {"from_value": 1001, "to_value": None, "per_unit_amount": "1", "flat_amount": "0"},
    ]
    charge = {
        "billable_metric_id": str(calls.lago_id),
        "charge_model": "graduated",
        "properties": {"graduated_ranges": ranges},
    }
    make_plan("free_tier", 100, charges=[charge])
    subscribe(at(2025, 1, 1), "free_tier")
    send(at(2025, 1, 10), "calls", 150)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    usage = january.fees.get(fee_type="charge")
    assert (usage.units, usage.amount_cents) == (150, 0)


def _event(moment, value, region, n):
    events_ingest(
        raws=[
            {
                "transaction_id": f"ev-{n}",
                "external_subscription_id": "sub",
                "code": "storage",
                "timestamp": moment.isoformat(),
                "properties": {"value": value, "region": region},
            }
        ],
        now=moment,
    )


def test_a_grouped_usage_fee_records_its_group_units_and_events():
    storage = make_metric("storage")
    properties = {"amount": "1", "pricing_group_keys": ["region"]}
    make_plan("grouped", 0, charges=[standard_charge(storage, properties=properties)])
    subscribe(at(2025, 1, 1), "grouped")
    _event(at(2025, 1, 3), 3, "EU", 1)
    _event(at(2025, 1, 4), 4, "EU", 2)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    fee = january.fees.get(fee_type="charge")
    # 3 + 4 GB in the EU at $1: 700, from 2 events
    assert (fee.amount_cents, fee.grouped_by, fee.total_aggregated_units, fee.events_count) == (
        700,
        {"region": "EU"},
        7,
        2,
    )
    assert fee.description == "Storage"
    assert fee.charge_filter is None


@pytest.mark.parametrize(("calls", "true_up"), [(400, 100), (500, None)])
def test_a_spending_minimum_of_one_dollar_short_or_met(calls, true_up):
    # minimum $5.00 on calls at 1 cent: 400 calls = $4.00 -> $1.00 true-up; 500 meet it
    metric = make_metric("calls")
    make_plan("minimum", 0, charges=[standard_charge(metric, "0.01", min_amount_cents=500)])
    subscribe(at(2025, 1, 1), "minimum")
    send(at(2025, 1, 10), "calls", calls)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    true_ups = [
        (f.amount_cents, f.from_datetime, f.to_datetime)
        for f in january.fees.filter(fee_type="charge", amount_details__true_up=True)
    ]
    assert true_ups == ([(true_up, at(2025, 1, 1), at(2025, 2, 1))] if true_up else [])
    if true_up:
        fee = january.fees.get(amount_details__true_up=True)
        assert fee.amount_details == {"min_amount_cents": 500, "true_up": True}
        assert fee.charge.billable_metric == metric
        assert (fee.description, fee.invoice_display_name) == (
            "Calls — minimum spend true-up",
            "Calls — minimum spend true-up",
        )
        assert (fee.precise_amount, fee.precise_unit_amount) == (Decimal(1), Decimal(1))


@pytest.mark.parametrize(("calls", "true_up"), [(300, [10000]), (400, [])])
def test_a_commitment_does_not_count_next_periods_advance_fee(calls, true_up):
    # $100 base in advance, $500 committed: January's base 10,000 (billed on January 1) +
    # usage; the February base fee on the same invoice as the true-up is February's.
    # 300 calls: 50,000 - 10,000 - 30,000 = 10,000; 400 calls meet it exactly: no true-up
    metric = make_metric("calls")
    make_plan(
        "committed_advance",
        10000,
        pay_in_advance=True,
        charges=[standard_charge(metric, "1")],
        minimum_commitment={"amount_cents": 50000},
    )
    subscribe(at(2025, 1, 1), "committed_advance")
    send(at(2025, 1, 10), "calls", calls)
    [february] = run_beat(at(2025, 2, 1, 0, 5))
    assert (
        sorted(f.fee_type for f in february.fees.all())[:2]
        == ["charge", "commitment"][: 2 if true_up else 1]
        or true_up == []
    )
    assert [f.amount_cents for f in february.fees.filter(fee_type="commitment")] == true_up


def test_every_field_of_a_commitment_true_up_one_dollar_short():
    metric = make_metric("calls")
    make_plan(
        "committed",
        0,
        charges=[standard_charge(metric, "1")],
        minimum_commitment={"amount_cents": 50000},
    )
    subscribe(at(2025, 1, 1), "committed")
    send(at(2025, 1, 10), "calls", 499)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    # 50,000 - 49,900 = 100
    fee = january.fees.get(fee_type="commitment")
    assert (fee.amount_cents, fee.precise_amount, fee.precise_unit_amount) == (
        100,
        Decimal(1),
        Decimal(1),
    )
    assert (fee.from_datetime, fee.to_datetime) == (at(2025, 1, 1), at(2025, 2, 1))
    assert (fee.description, fee.invoice_display_name) == (
        "Minimum commitment true-up",
        "Minimum commitment true-up",
    )
    assert fee.amount_details == {"commitment_amount_cents": 50000}


def test_a_trial_is_for_the_first_plan_only_not_after_an_upgrade(api):
    make_plan("basic", 3000, pay_in_advance=True)
    make_plan("premium", 9000, pay_in_advance=True, trial_period=10)
    api_subscribe(api, at(2024, 4, 1), "basic")
    api_subscribe(api, at(2024, 4, 16, 12), "premium")
    premium_start = Invoice.objects.order_by("pk").last()
    # April 16-30 of 9,000, no trial days: 4,500
    assert [f.amount_cents for f in premium_start.fees.filter(fee_type="subscription")] == [4500]


def _usage_plan_and_two_subscriptions():
    calls = make_metric("calls")
    make_plan("usage", 3000, charges=[standard_charge(calls, "1")])
    customer_upsert(data={"external_id": "other", "currency": "USD"})
    ours = subscribe(at(2024, 11, 1), "usage")
    theirs = subscribe(at(2024, 11, 1), "usage", external_id="theirs", customer="other")
    send(at(2024, 11, 5), "calls", 7)
    send(at(2024, 11, 6), "calls", 9, external_id="theirs")
    return ours, theirs


def _charges(invoice):
    return [f.amount_cents for f in invoice.fees.filter(fee_type="charge")]


def test_a_termination_bills_the_usage_another_subscription_billed_early(api):
    _, theirs = _usage_plan_and_two_subscriptions()
    with time_machine.travel(at(2024, 11, 15, 10), tick=False):
        subscription_bill_due(subscription_id=theirs.pk, now=at(2024, 12, 1, 0, 5))
    assert terminate(api, at(2024, 11, 15, 10)).status_code == 200
    final = Invoice.objects.get(customer__external_id="cust")
    assert _charges(final) == [700]  # our 7 calls, whatever the other subscription billed


def test_a_termination_after_an_early_close_bills_no_usage_twice(api):
    ours, _ = _usage_plan_and_two_subscriptions()
    with time_machine.travel(at(2024, 11, 15, 10), tick=False):
        [november] = subscription_bill_due(subscription_id=ours.pk, now=at(2024, 12, 1, 0, 5))
    assert _charges(november) == [700]
    assert terminate(api, at(2024, 11, 15, 10)).status_code == 200
    final = Invoice.objects.filter(customer__external_id="cust").exclude(pk=november.pk).get()
    assert _charges(final) == []


def test_a_draft_refreshed_after_a_later_termination_still_bills_its_own_usage(api):
    """A draft is measured only against invoices created before it: the termination invoice
    issued during its grace period (usage to Feb 2) must not make January's usage look billed."""
    customer_upsert(
        data={
            "external_id": "cust",
            "currency": "USD",
            "billing_configuration": {"invoice_grace_period": 3},
        }
    )
    calls = make_metric("calls")
    make_plan("graced", 3000, charges=[standard_charge(calls, "1")])
    subscribe(at(2025, 1, 1), "graced")
    send(at(2025, 1, 10), "calls", 10)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    assert (january.status, january.fees_amount_cents) == ("draft", 4000)
    send(at(2025, 1, 31, 23), "calls", 5)  # late, within the grace period
    assert terminate(api, at(2025, 2, 2, 12)).status_code == 200
    run_beat(at(2025, 2, 4, 1))
    january.refresh_from_db()
    # $30 base + 15 calls x $1 (the late event counts), whatever was invoiced after the draft
    assert (january.status, january.fees_amount_cents) == ("finalized", 4500)
    usage = january.fees.get(fee_type="charge")
    assert (usage.units, usage.amount_cents) == (15, 1500)
