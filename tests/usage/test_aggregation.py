"""Every aggregation type computed in SQL against hand-computed values (SQLite and PostgreSQL)."""

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from customers.services import subscription_create
from plans.models import Charge
from tests.factories import make_metric, make_plan
from usage.aggregation import Window, aggregate_charge
from usage.services import events_ingest

pytestmark = pytest.mark.django_db
TRANSACTION_IDS = itertools.count()
MARCH = (datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2024, 4, 15, tzinfo=UTC), tick=False):
        yield


def _setup(
    aggregation: str,
    properties=None,
    filters=None,
    recurring=False,
    charge_model="standard",
    **metric_extra,
):
    metric_filters = metric_extra.pop("metric_filters", None)
    metric = make_metric(
        "m",
        aggregation,
        field_name="v",
        recurring=recurring,
        **({"filters": metric_filters} if metric_filters else {}),
        **metric_extra,
    )
    charge = {
        "billable_metric_id": str(metric.lago_id),
        "charge_model": charge_model,
        "properties": properties or {"amount": "1"},
    }
    if filters:
        charge["filters"] = filters
    make_plan("p", charges=[charge])
    subscription_create(
        data={
            "external_customer_id": "c",
            "plan_code": "p",
            "external_id": "s",
            "subscription_at": "2024-01-01T00:00:00Z",
        }
    )
    return Charge.objects.get()


def _send(*events):
    """events: (day in March or a datetime, properties)."""
    raws = []
    for when, properties in events:
        index = next(TRANSACTION_IDS)
        moment = when if isinstance(when, datetime) else datetime(2024, 3, when, tzinfo=UTC)
        raws.append(
            {
                "transaction_id": f"t{index}",
                "external_subscription_id": "s",
                "code": "m",
                "timestamp": moment.isoformat(),
                "properties": properties,
            }
        )
    events_ingest(raws=raws)


def _units(charge, lower=MARCH[0], upper=MARCH[1], history=datetime(2024, 1, 1, tzinfo=UTC)):
    buckets = aggregate_charge(charge, Window("s", lower, upper, history))
    return {(b.filter_id, b.group): (b.units, b.events_count) for b in buckets}


def test_count():
    charge = _setup("count_agg")
    _send((1, {}), (2, {}), (31, {}), (datetime(2024, 4, 1, tzinfo=UTC), {}))
    assert _units(charge) == {(0, ()): (Decimal(3), 3)}


def test_sum_with_decimals_and_a_missing_value():
    charge = _setup("sum_agg")
    _send((1, {"v": "1.25"}), (2, {"v": 2}), (3, {}), (4, {"v": "-0.25"}))
    assert _units(charge) == {(0, ()): (Decimal("3"), 4)}


def test_max():
    charge = _setup("max_agg")
    _send((1, {"v": 5}), (2, {"v": "12.5"}), (3, {"v": 7}))
    assert _units(charge) == {(0, ()): (Decimal("12.5"), 3)}


def test_latest_is_the_last_value_and_never_negative():
    charge = _setup("latest_agg")
    _send((1, {"v": 5}), (20, {"v": 9}), (10, {"v": 100}))
    assert _units(charge)[(0, ())][0] == Decimal(9)
    _send((25, {"v": -3}))
    assert _units(charge)[(0, ())][0] == Decimal(0)


def test_unique_count_with_add_and_remove():
    charge = _setup("unique_count_agg")
    _send(
        (1, {"v": "alice"}),
        (2, {"v": "bob"}),
        (3, {"v": "alice"}),
        (4, {"v": "carol"}),
        (5, {"v": "bob", "operation_type": "remove"}),
    )
    assert _units(charge)[(0, ())][0] == Decimal(2)  # alice, carol


def test_recurring_unique_count_carries_seats_into_the_next_period():
    charge = _setup("unique_count_agg", recurring=True)
    _send(
        (datetime(2024, 2, 10, tzinfo=UTC), {"v": "alice"}),
        (datetime(2024, 2, 11, tzinfo=UTC), {"v": "bob"}),
        (5, {"v": "bob", "operation_type": "remove"}),
        (6, {"v": "dave"}),
    )
    assert _units(charge)[(0, ())] == (Decimal(2), 2)  # alice (from February) + dave


def test_recurring_sum_accumulates_from_history():
    charge = _setup("sum_agg", recurring=True)
    _send((datetime(2024, 2, 10, tzinfo=UTC), {"v": 10}), (5, {"v": 5}))
    assert _units(charge)[(0, ())] == (Decimal(15), 1)


def test_weighted_sum_is_the_time_weighted_level():
    charge = _setup("weighted_sum_agg")
    # March has 31 days: +10 GB from the 1st, +20 more from the 16th 00:00 (16 days at 30).
    _send((1, {"v": 10}), (16, {"v": 20}))
    expected = (Decimal(10) * 15 + Decimal(30) * 16) / 31
    units = _units(charge)[(0, ())][0]
    assert abs(units - expected) < Decimal("1e-9")


def test_recurring_weighted_sum_starts_at_the_previous_level():
    charge = _setup("weighted_sum_agg", recurring=True)
    _send((datetime(2024, 2, 1, tzinfo=UTC), {"v": 10}), (17, {"v": -10}))
    expected = Decimal(10) * 16 / 31  # 10 GB until the 17th, then none
    assert abs(_units(charge)[(0, ())][0] - expected) < Decimal("1e-9")


MODEL_FILTERS = [
    {"key": "model", "values": ["gpt-4", "gpt-4o"]},
    {"key": "region", "values": ["eu", "us"]},
]


def test_filters_most_specific_first_and_default_bucket():
    charge = _setup(
        "sum_agg",
        metric_filters=MODEL_FILTERS,
        filters=[
            {"values": {"model": ["gpt-4"]}, "properties": {"amount": "2"}},
            {"values": {"model": ["gpt-4"], "region": ["eu"]}, "properties": {"amount": "3"}},
            {"values": {"region": ["__ALL_FILTER_VALUES__"]}, "properties": {"amount": "4"}},
        ],
    )
    by_values = {str(sorted(f.values.items())): f.pk for f in charge.filters.all()}
    gpt4 = by_values[str([("model", ["gpt-4"])])]
    gpt4_eu = by_values[str([("model", ["gpt-4"]), ("region", ["eu"])])]
    any_region = by_values[str([("region", ["__ALL_FILTER_VALUES__"])])]
    _send(
        (1, {"v": 1, "model": "gpt-4"}),
        (2, {"v": 10, "model": "gpt-4", "region": "eu"}),
        (3, {"v": 100, "model": "gpt-4", "region": "us"}),  # 1 key each: gpt-4 created first
        (4, {"v": 1000, "model": "gpt-4o", "region": "us"}),
        (5, {"v": 10000, "model": "gpt-4o"}),
    )
    assert _units(charge) == {
        (0, ()): (Decimal(10000), 1),
        (gpt4, ()): (Decimal(101), 2),
        (gpt4_eu, ()): (Decimal(10), 1),
        (any_region, ()): (Decimal(1000), 1),
    }


def test_pricing_group_keys_split_usage():
    charge = _setup("sum_agg", properties={"amount": "1", "pricing_group_keys": ["region"]})
    _send(
        (1, {"v": 1, "region": "eu"}),
        (2, {"v": 2, "region": "us"}),
        (3, {"v": 4, "region": "eu"}),
        (4, {"v": 8}),
    )
    assert _units(charge) == {
        (0, ("eu",)): (Decimal(5), 2),
        (0, ("us",)): (Decimal(2), 1),
        (0, (None,)): (Decimal(8), 1),
    }


def test_imported_and_unmatched_events_are_not_aggregated():
    charge = _setup("count_agg")
    events_ingest(
        raws=[
            {
                "transaction_id": "old",
                "external_subscription_id": "s",
                "code": "m",
                "timestamp": "2024-03-02T00:00:00Z",
            }
        ],
        already_billed=True,
    )
    _send((1, {}))
    assert _units(charge) == {(0, ()): (Decimal(1), 1)}


def test_first_events_total_for_percentage_free_events():
    charge = _setup(
        "sum_agg", properties={"rate": "1", "free_units_per_events": 2}, charge_model="percentage"
    )
    _send((3, {"v": 300}), (1, {"v": 100}), (2, {"v": 200}), (4, {"v": 400}))
    bucket = aggregate_charge(charge, Window("s", *MARCH, MARCH[0]))[0]
    assert bucket.first_events_total == Decimal(300)  # the two earliest: 100 + 200


@pytest.mark.parametrize(
    "properties",
    [
        {
            "rate": "10",
            "fixed_amount": "0.5",
            "per_transaction_min_amount": "2",
            "per_transaction_max_amount": "15",
        },
        {"rate": "10", "per_transaction_max_amount": "15", "free_units_per_events": 1},
        {
            "rate": "10",
            "per_transaction_min_amount": "3",
            "free_units_per_total_aggregation": "150",
        },
        {
            "rate": "10",
            "fixed_amount": "1",
            "per_transaction_min_amount": "1",
            "free_units_per_events": 2,
            "free_units_per_total_aggregation": "120",
        },
    ],
)
def test_percentage_min_max_in_sql_matches_the_pricing_engine(properties):
    from plans import pricing

    charge = _setup("sum_agg", properties=properties, charge_model="percentage")
    values = [Decimal(v) for v in ("100", "5", "300", "-20", "40", "1000")]
    _send(*[(day + 1, {"v": str(v)}) for day, v in enumerate(values)])
    bucket = aggregate_charge(charge, Window("s", *MARCH, MARCH[0]))[0]
    expected = pricing.price(
        "percentage",
        charge.properties,
        pricing.UsageInput(
            units=bucket.units, events_count=len(values), per_event_values=tuple(values)
        ),
    ).amount
    assert bucket.clamped_fees_total == expected


def test_rollups_and_raw_events_agree_on_a_window_cut_mid_hour():
    """Whole hours come from rollups, edges from raw events: same numbers as all-raw."""
    import random

    from usage.aggregation import _raw_stats, _stats

    charge = _setup(
        "sum_agg",
        metric_filters=MODEL_FILTERS,
        filters=[{"values": {"model": ["gpt-4"]}, "properties": {"amount": "2"}}],
    )
    rng = random.Random(7)
    events = []
    for _ in range(300):
        moment = datetime(2024, 3, 3, tzinfo=UTC) + timedelta(minutes=rng.randint(0, 3 * 1440))
        events.append(
            (
                moment,
                {
                    "v": rng.randint(1, 50),
                    "model": rng.choice(["gpt-4", "gpt-4o"]),
                    **({"region": "eu"} if rng.random() < 0.5 else {}),
                },
            )
        )
    _send(*events)
    lower = datetime(2024, 3, 3, 10, 37, tzinfo=UTC)
    upper = datetime(2024, 3, 5, 15, 12, tzinfo=UTC)
    window = Window("s", lower, upper, lower)
    metric, filters = charge.billable_metric, list(charge.filters.all())
    raw: dict = {}
    _raw_stats(metric, window, filters, [], lower, upper, raw)
    assert _stats(metric, window, filters, [], lower, upper) == raw
    assert sum(v[0] for v in raw.values()) > 100


def test_a_pricing_group_added_after_ingestion_falls_back_to_raw_events():
    from plans.services import plan_update

    charge = _setup("sum_agg")
    _send((1, {"v": 1, "region": "eu"}), (2, {"v": 2, "region": "us"}))
    plan_update(
        plan=charge.plan,
        data={
            "charges": [
                {
                    "id": str(charge.lago_id),
                    "billable_metric_id": str(charge.billable_metric.lago_id),
                    "charge_model": "standard",
                    "properties": {"amount": "1", "pricing_group_keys": ["region"]},
                }
            ]
        },
    )
    charge.refresh_from_db()
    assert _units(charge) == {(0, ("eu",)): (Decimal(1), 1), (0, ("us",)): (Decimal(2), 1)}


def test_rebuilt_rollups_equal_the_ones_kept_at_ingestion():
    from usage.models import UsageRollup
    from usage.rollups import rollups_rebuild

    _setup(
        "sum_agg",
        metric_filters=MODEL_FILTERS,
        filters=[{"values": {"model": ["gpt-4"]}, "properties": {"amount": "2"}}],
    )
    _send(
        (1, {"v": 1, "model": "gpt-4"}),
        (1, {"v": 2, "model": "gpt-4o"}),
        (2, {"v": 3}),
        (datetime(2024, 3, 2, 5, 30, tzinfo=UTC), {"v": "4.5", "model": "gpt-4", "region": "eu"}),
    )

    def snapshot():
        return sorted(
            (r.hour, r.dim_keys, sorted(r.dims.items()), r.events_count, r.value_sum, r.value_max)
            for r in UsageRollup.objects.all()
        )

    kept = snapshot()
    assert rollups_rebuild(external_subscription_id="s") == len(kept) == 4
    assert snapshot() == kept
