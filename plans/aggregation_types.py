"""The aggregation types of billable metrics, listed once, with the rules each one implies.

Before this registry the list was written in seven places over three apps (the model choices,
the metric and plan rules, ingestion, the fee estimate and the aggregation SQL). Now a new
aggregation type is one entry in SPECS below plus its SQL builder in usage/aggregation.py
(`@builder("key")`, or `@builder("key", rollup=True)` when the hourly rollups serve it, and
`@builder("key", prorated=True)` when it has a prorated variant);
usage.aggregation.missing_builders() names any builder a spec promises and nobody registered.

Pure on purpose, like charge_models.py which uses it: stdlib only, no Django. The model field's
choices (plans.models.AggregationType) are built from SPECS, in order.
"""

from dataclasses import dataclass

# The stored values (plans.models.AggregationType), as plain strings for the pure modules.
COUNT, SUM, MAX, UNIQUE_COUNT, LATEST, WEIGHTED_SUM = (
    "count_agg",
    "sum_agg",
    "max_agg",
    "unique_count_agg",
    "latest_agg",
    "weighted_sum_agg",
)


@dataclass(frozen=True)
class AggregationTypeSpec:
    """One aggregation type. `needs_field`: the metric names the event property it aggregates
    (otherwise field_name is cleared); `recurring`: its units may carry over from period to
    period; `pay_in_advance`: a charge on it may be paid in advance; `numeric`: ingestion reads
    the field as a number (refusing a non-numeric one), and one event adds its value rather than
    one unit; `rollup`: its units come from the hourly rollup totals (events, sum, max) instead
    of a window query of its own; `prorated`: a recurring metric of it can be priced by days
    present; `time_weighted`: its value is already weighted by time (weighted_interval
    "seconds")."""

    key: str
    label: str
    needs_field: bool = True
    recurring: bool = True
    pay_in_advance: bool = False
    numeric: bool = True
    rollup: bool = False
    prorated: bool = False
    time_weighted: bool = False

    @property
    def name(self) -> str:
        """The choices' member name: "unique_count_agg" -> "UNIQUE_COUNT"."""
        return self.key.removesuffix("_agg").upper()


SPECS: tuple[AggregationTypeSpec, ...] = (
    AggregationTypeSpec(
        COUNT,
        "count",
        needs_field=False,
        recurring=False,
        pay_in_advance=True,
        numeric=False,
        rollup=True,
    ),
    AggregationTypeSpec(SUM, "sum", pay_in_advance=True, rollup=True, prorated=True),
    AggregationTypeSpec(MAX, "max", recurring=False, rollup=True),
    AggregationTypeSpec(
        UNIQUE_COUNT, "unique count", pay_in_advance=True, numeric=False, prorated=True
    ),
    AggregationTypeSpec(LATEST, "latest", recurring=False),
    AggregationTypeSpec(WEIGHTED_SUM, "weighted sum", time_weighted=True),
)
REGISTRY: dict[str, AggregationTypeSpec] = {spec.key: spec for spec in SPECS}
KEYS: tuple[str, ...] = tuple(spec.key for spec in SPECS)
ALL_AGGREGATIONS = frozenset(KEYS)


def keys_where(flag: str, value: bool = True) -> frozenset[str]:
    """The types whose `flag` is `value`: e.g. keys_where("recurring", False)."""
    return frozenset(spec.key for spec in SPECS if getattr(spec, flag) is value)


NOT_RECURRING = keys_where("recurring", False)
IN_ADVANCE = keys_where("pay_in_advance")
NUMERIC = keys_where("numeric")
