"""Lago's charge-model pages, replayed through the API: each test sets up the page's plan,
sends its events, and checks the amount the page states (current usage and, where the page
talks about the invoice, the period-end invoice)."""

from decimal import Decimal

import pytest

from tests.lago_docs.conftest import at, fees_by_type, units

pytestmark = pytest.mark.django_db


def _subscribe(lago, charge, amount_cents=0):
    lago.customer()
    lago.plan("api", amount_cents, charges=[charge])
    lago.subscribe(at(2025, 1, 1), "api")


def _charge_usage(lago, moment=None) -> dict:
    [charge] = lago.usage(moment or at(2025, 1, 20))["charges_usage"]
    return charge


def test_standard_0_05_per_call_1000_calls_is_50(lago):
    """https://getlago.com/docs/guide/plans/charges/charge-models/standard

    $0.05 per API call, 1,000 calls in the period -> the invoice's charge is $50 (5000 cents).
    """
    lago.metric("api_calls", "count_agg")
    _subscribe(lago, lago.charge("api_calls", "standard", {"amount": "0.05"}))
    for day in range(1, 11):
        lago.events(at(2025, 1, day, 12), "api_calls", 100)
    usage = _charge_usage(lago)
    assert (units(usage["units"]), usage["amount_cents"]) == (1000, 5000)
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices()
    assert fees_by_type(invoice) == {"api_calls": 5000}
    assert invoice["total_amount_cents"] == 5000


def test_graduated_tiers_1_then_0_50_then_0_10(lago):
    """https://getlago.com/docs/guide/plans/charges/charge-models/graduated

    $1 per unit for the first 100 units, $0.50 for the next 100, $0.10 for any additional unit.
    The page gives the tiers, not a total; by its rule 250 calls cost 100 x $1 + 100 x $0.50 +
    50 x $0.10 = $155 (15500 cents), and exactly 100 calls cost $100.
    """
    lago.metric("api_calls", "count_agg")
    ranges = [
        {"from_value": 0, "to_value": 100, "per_unit_amount": "1", "flat_amount": "0"},
        {"from_value": 101, "to_value": 200, "per_unit_amount": "0.5", "flat_amount": "0"},
        {"from_value": 201, "to_value": None, "per_unit_amount": "0.1", "flat_amount": "0"},
    ]
    _subscribe(lago, lago.charge("api_calls", "graduated", {"graduated_ranges": ranges}))
    lago.events(at(2025, 1, 2), "api_calls", 100)
    assert _charge_usage(lago)["amount_cents"] == 10000
    lago.events(at(2025, 1, 3), "api_calls", 150)
    assert _charge_usage(lago)["amount_cents"] == 15500


def test_volume_65000_calls_is_49(lago):
    """https://getlago.com/docs/guide/plans/charges/charge-models/volume

    tiers 0-10,000 at $0.0010, 10,001-50,000 at $0.0008, 50,001-100,000 at $0.0006, 100,001+ at
    $0.0004, each with a $10 flat fee; 65,000 calls cost 65,000 x $0.0006 + $10 = $49 (4900
    cents).
    """
    lago.metric("api_calls", "sum_agg", "calls")
    ranges = [
        {"from_value": 0, "to_value": 10000, "per_unit_amount": "0.0010", "flat_amount": "10"},
        {"from_value": 10001, "to_value": 50000, "per_unit_amount": "0.0008", "flat_amount": "10"},
        {"from_value": 50001, "to_value": 100000, "per_unit_amount": "0.0006", "flat_amount": "10"},
        {"from_value": 100001, "to_value": None, "per_unit_amount": "0.0004", "flat_amount": "10"},
    ]
    _subscribe(lago, lago.charge("api_calls", "volume", {"volume_ranges": ranges}))
    lago.event(at(2025, 1, 5), "api_calls", {"calls": 40000})
    lago.event(at(2025, 1, 6), "api_calls", {"calls": 25000})
    usage = _charge_usage(lago)
    assert (units(usage["units"]), usage["amount_cents"]) == (65000, 4900)
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices()
    assert fees_by_type(invoice) == {"api_calls": 4900}


def test_package_5_per_100_with_100_free_201_units_is_10(lago):
    """https://getlago.com/docs/guide/plans/charges/charge-models/package

    $5 per 100 units, the first 100 units free; 201 units cost $0 + $5 + $5 (the last unit
    starts a package) = $10 (1000 cents).
    """
    lago.metric("api_calls", "sum_agg", "calls")
    properties = {"amount": "5", "package_size": 100, "free_units": 100}
    _subscribe(lago, lago.charge("api_calls", "package", properties))
    lago.event(at(2025, 1, 5), "api_calls", {"calls": 200})
    assert _charge_usage(lago)["amount_cents"] == 500
    lago.event(at(2025, 1, 6), "api_calls", {"calls": 1})
    usage = _charge_usage(lago)
    assert (units(usage["units"]), usage["amount_cents"]) == (201, 1000)


def test_percentage_free_events_and_free_amount_fourth_transaction_is_0_70(lago):
    """https://getlago.com/docs/guide/plans/charges/charge-models/percentage

    1.2% rate, $0.10 fixed fee per transaction, the first 3 events or the first $500 free.
    Transactions $200, $100, $100 are free; the fourth ($50) costs $0.10 x 1 event + 1.2% of $50
    = $0.70 (70 cents) — so the period's charge is 70 cents, and nothing before the fourth.
    """
    lago.metric("transactions", "sum_agg", "amount")
    properties = {
        "rate": "1.2",
        "fixed_amount": "0.1",
        "free_units_per_events": 3,
        "free_units_per_total_aggregation": "500",
    }
    _subscribe(lago, lago.charge("transactions", "percentage", properties))
    for day, amount in [(2, 200), (3, 100), (4, 100)]:
        lago.event(at(2025, 1, day), "transactions", {"amount": amount})
    assert _charge_usage(lago)["amount_cents"] == 0
    lago.event(at(2025, 1, 5), "transactions", {"amount": 50})
    usage = _charge_usage(lago)
    assert (units(usage["units"]), usage["events_count"], usage["amount_cents"]) == (450, 4, 70)
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices()
    assert fees_by_type(invoice) == {"transactions": 70}


def test_graduated_percentage_three_transactions_total_591(lago):
    """https://getlago.com/docs/guide/plans/charges/charge-models/graduated-percentage

    tiers 0-1,000 at 1% + $200 flat, 1,001-10,000 at 2% + $300 flat, 10,001+ at 3% + $400 flat.
    Transactions of $500, $550 and $4,000 cost $205.00, $306.00 and $80.00 (each flat fee once,
    when its tier is reached), so the period's usage costs $591.00 (59100 cents): 1,000 x 1% +
    4,050 x 2% + $200 + $300.
    """
    lago.metric("transactions", "sum_agg", "amount")
    ranges = [
        {"from_value": 0, "to_value": 1000, "rate": "1", "flat_amount": "200"},
        {"from_value": 1001, "to_value": 10000, "rate": "2", "flat_amount": "300"},
        {"from_value": 10001, "to_value": None, "rate": "3", "flat_amount": "400"},
    ]
    properties = {"graduated_percentage_ranges": ranges}
    _subscribe(lago, lago.charge("transactions", "graduated_percentage", properties))
    running = []
    for day, amount in [(2, 500), (3, 550), (4, 4000)]:
        lago.event(at(2025, 1, day), "transactions", {"amount": amount})
        running.append(_charge_usage(lago)["amount_cents"])
    # each transaction's cost is the growth of the period's amount: $205, $306, $80
    assert running == [20500, 51100, 59100]
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices()
    assert fees_by_type(invoice) == {"transactions": 59100}


def test_dynamic_three_events_one_fee_of_3_45(lago):
    """https://getlago.com/docs/guide/plans/charges/charge-models/dynamic

    three events of 7, 5 and 10 units with precise_total_amount_cents 70, 55 and 220 give one
    fee: 22 units, unit price $0.156818, amount $3.45 (345 cents). (The page's prose says
    "$3.435"; its table and the events say $0.70 + $0.55 + $2.20 = $3.45, which is what is
    checked.)
    """
    lago.metric("dedicated_instance", "sum_agg", "unit")
    _subscribe(lago, lago.charge("dedicated_instance", "dynamic", {}))
    for hour, (unit, cents) in enumerate([("7", "70"), ("5", "55"), ("10", "220")]):
        lago.event(
            at(2025, 1, 10, 10 + hour),
            "dedicated_instance",
            {"unit": unit},
            precise_total_amount_cents=cents,
        )
    usage = _charge_usage(lago)
    assert (units(usage["units"]), usage["amount_cents"]) == (22, 345)
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices()
    [fee] = invoice["fees"]
    assert (units(fee["units"]), fee["amount_cents"]) == (22, 345)
    assert Decimal(fee["precise_unit_amount"]).quantize(Decimal("0.000001")) == Decimal("0.156818")


def test_pricing_group_keys_make_one_fee_per_region(lago):
    """https://getlago.com/docs/guide/plans/charges/grouping

    Storage at $1 per GB (sum of gb) with pricing_group_keys ["region"], 10 GB in EU and 15 GB
    in US -> two fees, $10.00 and $15.00, total $25.00.
    """
    lago.metric("storage", "sum_agg", "gb")
    properties = {"amount": "1", "pricing_group_keys": ["region"]}
    _subscribe(lago, lago.charge("storage", "standard", properties))
    lago.event(at(2025, 1, 3), "storage", {"gb": 10, "region": "EU"})
    lago.event(at(2025, 1, 4), "storage", {"gb": 15, "region": "US"})
    usage = _charge_usage(lago)
    assert usage["amount_cents"] == 2500
    grouped = {tuple(g["grouped_by"].values()): g["amount_cents"] for g in usage["grouped_usage"]}
    assert grouped == {("EU",): 1000, ("US",): 1500}
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices()
    by_region = sorted(
        (f["item"]["grouped_by"]["region"], f["amount_cents"]) for f in invoice["fees"]
    )
    assert by_region == [("EU", 1000), ("US", 1500)]
    assert invoice["fees_amount_cents"] == 2500


def test_fifteen_decimal_unit_price_rounded_to_cents(lago):
    """https://getlago.com/docs/guide/plans/charges/usage-based-charges#number-of-decimals

    Charges accept up to 15 decimals (the page's example price $0.000123456789123) and invoices
    round to amount_cents (its example: 1102 cents = $11.02). At that price 89,262 units are
    $11.01999991... -> 1102 cents.
    """
    lago.metric("tokens", "sum_agg", "tokens")
    _subscribe(lago, lago.charge("tokens", "standard", {"amount": "0.000123456789123"}))
    lago.event(at(2025, 1, 3), "tokens", {"tokens": 89262})
    assert _charge_usage(lago)["amount_cents"] == 1102
    lago.beat(at(2025, 2, 1, 0, 5))
    [invoice] = lago.invoices()
    [fee] = invoice["fees"]
    assert fee["amount_cents"] == 1102
    assert Decimal(fee["precise_amount"]).quantize(Decimal("0.00000001")) == Decimal("11.01999991")
