"""Lago's aggregation-type pages (and metric rounding, recurring vs metered), replayed through
the API: the page's events, then the billable units current usage reports for the period. Every
charge is standard at $1 per unit, so the amount in cents is 100 x the units."""

from decimal import Decimal

import pytest

from tests.lago_docs.conftest import at, fees_by_type, units

pytestmark = pytest.mark.django_db

# The pages' two events (March 2022); the subscription starts on March 1st.
EVENT_1 = at(2022, 3, 16)
EVENT_2 = at(2022, 3, 17)
READ = at(2022, 3, 20)


def _subscribe(lago, *codes, amount="1"):
    lago.customer()
    lago.plan(
        "plan", 0, charges=[lago.charge(code, "standard", {"amount": amount}) for code in codes]
    )
    lago.subscribe(at(2022, 3, 1), "plan")


def _units(lago, moment=READ) -> dict[str, Decimal]:
    usage = lago.usage(moment)
    return {c["billable_metric"]["code"]: units(c["units"]) for c in usage["charges_usage"]}


def test_count_two_events_two_units(lago):
    """https://getlago.com/docs/guide/billable-metrics/aggregation-types/count

    Two api_requests events (March 16 and 17, 2022) -> a billable value of 2 units.
    """
    lago.metric("api_requests", "count_agg")
    _subscribe(lago, "api_requests")
    lago.event(EVENT_1, "api_requests", tx="transaction_1")
    lago.event(EVENT_2, "api_requests", tx="transaction_2")
    assert _units(lago) == {"api_requests": 2}


def test_unique_count_same_request_id_twice_is_one_unit_then_removed(lago):
    """https://getlago.com/docs/guide/billable-metrics/aggregation-types/count-unique

    Two events with request_id "id_1" -> a billable value of 1 unit; the page's third event
    (March 18, operation_type "remove") removes the value from the count -> 0.
    """
    lago.metric("api_requests", "unique_count_agg", "request_id")
    _subscribe(lago, "api_requests")
    lago.event(EVENT_1, "api_requests", {"request_id": "id_1"}, tx="transaction_1")
    lago.event(EVENT_2, "api_requests", {"request_id": "id_1"}, tx="transaction_2")
    assert _units(lago) == {"api_requests": 1}
    lago.event(
        at(2022, 3, 18),
        "api_requests",
        {"request_id": "id_1", "operation_type": "remove"},
        tx="transaction_3",
    )
    assert _units(lago) == {"api_requests": 0}


def test_sum_20_and_10_is_30_units(lago):
    """https://getlago.com/docs/guide/billable-metrics/aggregation-types/sum

    total_requests 20 then 10 -> a billable value of 30 units.
    """
    lago.metric("api_requests", "sum_agg", "total_requests")
    _subscribe(lago, "api_requests")
    lago.event(EVENT_1, "api_requests", {"total_requests": 20})
    lago.event(EVENT_2, "api_requests", {"total_requests": 10})
    assert _units(lago) == {"api_requests": 30}


def test_max_20_and_10_is_20_units(lago):
    """https://getlago.com/docs/guide/billable-metrics/aggregation-types/max

    total_requests 20 then 10 -> a billable value of 20 units.
    """
    lago.metric("api_requests", "max_agg", "total_requests")
    _subscribe(lago, "api_requests")
    lago.event(EVENT_1, "api_requests", {"total_requests": 20})
    lago.event(EVENT_2, "api_requests", {"total_requests": 10})
    assert _units(lago) == {"api_requests": 20}


def test_latest_20_then_10_is_10_units(lago):
    """https://getlago.com/docs/guide/billable-metrics/aggregation-types/latest

    total_requests 20 (March 16) then 10 (March 17) -> a billable value of 10 units.
    """
    lago.metric("api_requests", "latest_agg", "total_requests")
    _subscribe(lago, "api_requests")
    lago.event(EVENT_1, "api_requests", {"total_requests": 20})
    lago.event(EVENT_2, "api_requests", {"total_requests": 10})
    assert _units(lago) == {"api_requests": 10}


def test_weighted_sum_gb_seconds_is_15_1612903226(lago):
    """https://getlago.com/docs/guide/billable-metrics/aggregation-types/weighted-sum

    March 2022 has 2,678,400 seconds; 20 GB from March 16 for one day (86,400 s), then 30 GB
    (20 + 10) from March 17 for the 15 days to the end of the month (1,296,000 s):
    20 x 86400 / 2678400 + 30 x 1296000 / 2678400 = 15.1612903226 units, read here on the
    period's invoice (the whole month must have elapsed for the 15 days to count); at $1 per
    unit the fee is $15.16.
    """
    lago.metric("gb_s", "weighted_sum_agg", "gb", weighted_interval="seconds")
    _subscribe(lago, "gb_s")
    lago.event(EVENT_1, "gb_s", {"gb": 20}, tx="transaction_1")
    lago.event(EVENT_2, "gb_s", {"gb": 10}, tx="transaction_2")
    lago.beat(at(2022, 4, 1, 0, 5))
    [invoice] = lago.invoices()
    [fee] = invoice["fees"]
    assert units(fee["units"]).quantize(Decimal("0.0000000001")) == Decimal("15.1612903226")
    assert fee["amount_cents"] == 1516


def test_the_same_two_events_under_each_aggregation(lago):
    """https://getlago.com/docs/guide/billable-metrics/aggregation-types/aggregation-examples

    The same two tracked_pages events (tracked_user_id "1234-5678-9098-7654", pageviews 10 then
    20) give COUNT 2, SUM 30, MAX 20, COUNT UNIQUE 1. (An event feeds one metric code, so the
    pair is sent once per metric.)
    """
    lago.metric("tracked_pages_count", "count_agg")
    lago.metric("tracked_pages_sum", "sum_agg", "pageviews")
    lago.metric("tracked_pages_max", "max_agg", "pageviews")
    lago.metric("tracked_pages_unique", "unique_count_agg", "tracked_user_id")
    codes = [
        "tracked_pages_count",
        "tracked_pages_sum",
        "tracked_pages_max",
        "tracked_pages_unique",
    ]
    _subscribe(lago, *codes)
    for code in codes:
        for moment, views in [(EVENT_1, 10), (EVENT_2, 20)]:
            properties = {"tracked_user_id": "1234-5678-9098-7654", "pageviews": views}
            lago.event(moment, code, properties)
    assert _units(lago) == {
        "tracked_pages_count": 2,
        "tracked_pages_sum": 30,
        "tracked_pages_max": 20,
        "tracked_pages_unique": 1,
    }


def test_rounding_of_the_aggregated_value(lago):
    """https://getlago.com/docs/guide/billable-metrics/rounding

    123.4567 rounded with no precision -> 123; with precision 2 -> 123.46; with precision -1 ->
    120. Ceil and floor (no precision) round up and down to the integer: 124 and 123.
    """
    variants = {
        "round_0": {"rounding_function": "round"},
        "round_2": {"rounding_function": "round", "rounding_precision": 2},
        "round_m1": {"rounding_function": "round", "rounding_precision": -1},
        "ceil_0": {"rounding_function": "ceil"},
        "floor_0": {"rounding_function": "floor"},
    }
    for code, rounding in variants.items():
        lago.metric(code, "sum_agg", "value", **rounding)
    _subscribe(lago, *variants)
    for code in variants:
        lago.event(EVENT_1, code, {"value": "100.4567"})
        lago.event(EVENT_2, code, {"value": "23"})
    assert _units(lago) == {
        "round_0": Decimal("123"),
        "round_2": Decimal("123.46"),
        "round_m1": Decimal("120"),
        "ceil_0": Decimal("124"),
        "floor_0": Decimal("123"),
    }


def test_recurring_seats_carry_over_metered_storage_resets(lago):
    """https://getlago.com/docs/guide/billable-metrics/recurring-vs-metered and
    https://getlago.com/docs/guide/plans/charges/metered-vs-recurring

    A recurring metric (the pages' Seats: unique_count_agg on seat_id, recurring: true) carries
    its units over to the next period; a metered one (Storage: sum_agg on gb, recurring: false)
    resets to 0 at each period's end. The pages state the rule, not numbers: 2 seats and 5 GB in
    March are billed again for the seats only in April (2 units, $2), with no new event.
    """
    lago.metric("seats", "unique_count_agg", "seat_id", recurring=True)
    lago.metric("storage", "sum_agg", "gb", recurring=False)
    _subscribe(lago, "seats", "storage")
    lago.event(EVENT_1, "seats", {"seat_id": "alice"})
    lago.event(EVENT_1, "seats", {"seat_id": "bob"})
    lago.event(EVENT_2, "storage", {"gb": 5})
    assert _units(lago) == {"seats": 2, "storage": 5}
    assert _units(lago, at(2022, 4, 10)) == {"seats": 2, "storage": 0}
    lago.beat(at(2022, 4, 1, 0, 5))
    lago.beat(at(2022, 5, 1, 0, 5))
    march, april = lago.invoices()
    assert fees_by_type(march) == {"seats": 200, "storage": 500}
    assert fees_by_type(april) == {"seats": 200}
