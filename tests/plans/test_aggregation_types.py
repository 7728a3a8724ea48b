"""The aggregation-type registry (plans/aggregation_types.py): one list that the model choices,
the metric and plan rules, ingestion, the fee estimate and the aggregation SQL all read."""

import pytest

from plans.aggregation_types import SPECS, keys_where
from plans.charge_models import ALL_AGGREGATIONS
from plans.models import AggregationType, BillableMetric, Charge
from plans.services import metrics, plans
from usage.aggregation import builder, missing_builders, prorates
from usage.services import ingest


def test_every_registered_aggregation_type_has_its_sql_builders():
    assert missing_builders() == []


def test_registering_a_builder_for_an_unknown_aggregation_type_raises():
    with pytest.raises(LookupError, match="median_agg"):
        builder("median_agg")(lambda *args: {})


def test_aggregation_choices_are_the_registry_in_its_order_with_the_same_labels_as_before():
    assert AggregationType.choices == [
        ("count_agg", "count"),
        ("sum_agg", "sum"),
        ("max_agg", "max"),
        ("unique_count_agg", "unique count"),
        ("latest_agg", "latest"),
        ("weighted_sum_agg", "weighted sum"),
    ]
    assert [spec.key for spec in SPECS] == AggregationType.values
    assert BillableMetric._meta.get_field("aggregation_type").choices == AggregationType.choices
    assert AggregationType.UNIQUE_COUNT == "unique_count_agg"
    assert AggregationType.WEIGHTED_SUM.label == "weighted sum"


def test_only_count_sum_and_unique_count_may_be_paid_in_advance():
    assert {"count_agg", "sum_agg", "unique_count_agg"} == plans.IN_ADVANCE_AGGREGATIONS


def test_count_max_and_latest_may_not_be_recurring():
    assert {"count_agg", "max_agg", "latest_agg"} == metrics.NOT_RECURRING


def test_every_type_but_count_needs_a_field_name():
    assert keys_where("needs_field", False) == {"count_agg"}


def test_ingestion_reads_a_number_for_sum_max_latest_and_weighted_sum():
    assert {"sum_agg", "max_agg", "latest_agg", "weighted_sum_agg"} == ingest.NUMERIC_AGGREGATIONS


def test_rollups_serve_count_sum_and_max_and_sum_and_unique_count_are_prorated():
    assert keys_where("rollup") == {"count_agg", "sum_agg", "max_agg"}
    assert keys_where("prorated") == {"sum_agg", "unique_count_agg"}
    assert keys_where("time_weighted") == {"weighted_sum_agg"}
    assert frozenset(AggregationType.values) == ALL_AGGREGATIONS


@pytest.mark.parametrize(
    ("aggregation", "field_name", "weighted_interval"),
    [("count_agg", "", ""), ("sum_agg", "gb", ""), ("weighted_sum_agg", "gb", "seconds")],
)
def test_a_new_metric_keeps_a_field_and_a_weighted_interval_as_its_type_says(
    db, aggregation, field_name, weighted_interval
):
    metric = metrics.billable_metric_create(
        data={"name": "M", "code": "m", "aggregation_type": aggregation, "field_name": "gb"}
    )
    assert (metric.field_name, metric.weighted_interval) == (field_name, weighted_interval)


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [("sum_agg", True), ("unique_count_agg", True), ("weighted_sum_agg", False)],
)
def test_only_a_recurring_sum_or_unique_count_is_aggregated_prorated(aggregation, expected):
    metric = BillableMetric(aggregation_type=aggregation, recurring=True)
    charge = Charge(billable_metric=metric, charge_model="standard", prorated=True)
    assert prorates(charge) is expected
