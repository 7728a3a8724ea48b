"""Usage aggregation in SQL: one query per charge, grouped by filter bucket and pricing group.

Events are never loaded into Python: the database returns one row per (bucket, group). The bucket
is a CASE over the charge's filters in most-specific-first order, so an event matching several
filters counts for the most specific one, and events matching none go to the charge's default
bucket (0). Pricing group keys add GROUP BY columns on the event properties.

count/sum/max and dynamic totals are plain aggregates; latest, unique_count (with add/remove),
weighted_sum and "the first N events" use window functions over an inner ORM query that is wrapped
in raw SQL (the ORM cannot aggregate over a window). Both SQLite and PostgreSQL run the same SQL
apart from seconds-since-epoch and local dates.

Prorated charges also get their units by the customer's local days they were present (one row
per bucket and day, or per day count): see "prorated charges" below.
"""

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Case, Count, IntegerField, Max, Q, Sum, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from plans import aggregation_types, periods, pricing
from plans.aggregation_types import COUNT, LATEST, MAX, SUM, UNIQUE_COUNT, WEIGHTED_SUM
from plans.charge_models import REGISTRY, SPECS
from plans.models import BillableMetric, Charge, ChargeFilter
from usage.models import Event, UsageRollup

ALL_FILTER_VALUES = "__ALL_FILTER_VALUES__"
ZERO = Decimal(0)
TS = '"timestamp"'  # quoted: a keyword in PostgreSQL

# The SQL builders of the aggregation types (plans/aggregation_types.py), registered below with
# @builder: units from the rollup totals, units from a query of their own, prorated units.
_rollup_builders: dict[str, Callable] = {}
_query_builders: dict[str, Callable] = {}
_prorated_builders: dict[str, Callable] = {}


def builder(key: str, *, rollup: bool = False, prorated: bool = False):
    """Decorator registering how an aggregation type's units are computed; the function itself
    is returned unchanged. `rollup=True`: `fn(events, total, top) -> Decimal` from the
    (rollup-served) events count, sum and max of a bucket; `prorated=True`:
    `fn(metric, window, filters, group_keys, buckets, graduated) -> {key: (unit_days,
    positions, peak)}`; otherwise `fn(metric, window, filters, group_keys) -> {key: units}`."""

    def register(fn: Callable) -> Callable:
        if key not in aggregation_types.REGISTRY:
            raise LookupError(f"aggregation {key!r} is not in plans.aggregation_types.SPECS")
        if prorated:
            _prorated_builders[key] = fn
        else:
            (_rollup_builders if rollup else _query_builders)[key] = fn
        return fn

    return register


def missing_builders() -> list[str]:
    """What plans.aggregation_types.SPECS promises and no builder here provides (empty when the
    registry is complete): the registry's completeness check, run by the tests."""
    missing = []
    for spec in aggregation_types.SPECS:
        if spec.rollup and spec.key not in _rollup_builders:
            missing.append(f"{spec.key}: rollup builder")
        if not spec.rollup and spec.key not in _query_builders:
            missing.append(f"{spec.key}: query builder")
        if spec.prorated and spec.key not in _prorated_builders:
            missing.append(f"{spec.key}: prorated builder")
    return missing


@dataclass(frozen=True)
class ProrationDays:
    """What prorated charges count days in: the customer's zone and the days of the whole
    charges period holding the window (the denominator, as for the base fee)."""

    tz: str
    period_days: int
    last_day: date | None = None  # a terminated subscription's last billed day, if earlier


@dataclass(frozen=True)
class Window:
    """What to aggregate: a subscription's events of one metric in [lower, upper)."""

    external_subscription_id: str
    lower: datetime
    upper: datetime
    history_start: datetime  # recurring metrics carry usage from here (the lineage's start)
    proration: ProrationDays | None = None  # None: prorated charges are priced in full

    @property
    def first_day(self) -> date:
        return periods.local_date(self.lower, self.proration.tz)

    @property
    def days(self) -> int:
        """Local days of the window, first and last included (0 when empty)."""
        if self.upper <= self.lower:
            return 0
        last = periods.local_date(self.upper - timedelta(microseconds=1), self.proration.tz)
        if self.proration.last_day is not None:
            last = min(last, self.proration.last_day)  # a plan change: the day is the new plan's
        return max((last - self.first_day).days + 1, 0)

    def days_left(self, moment: datetime) -> int:
        """Days of the window from `moment`'s local day to its last day, both included."""
        index = (periods.local_date(moment, self.proration.tz) - self.first_day).days
        return max(0, min(self.days, self.days - index))


@dataclass
class Bucket:
    """Aggregated usage of one (filter bucket, group) of a charge."""

    filter_id: int  # ChargeFilter pk, 0 = the charge's default price
    group: tuple  # values of the pricing group keys, in key order
    units: Decimal = ZERO
    events_count: int = 0
    precise_total_cents: Decimal = ZERO  # dynamic pricing
    first_events_total: Decimal | None = None  # percentage: the first N events' values
    clamped_fees_total: Decimal | None = None  # percentage with per-transaction min/max
    proration: pricing.Proration | None = None  # prorated charges: units by days present


def ordered_filters(filters: list[ChargeFilter]) -> list[ChargeFilter]:
    """Most specific first (more keys), then in creation order: CASE picks the first match."""
    return sorted(filters, key=lambda f: (-len(f.values), f.created_at, f.pk))


def _text(field: str, key: str):
    """A JSON property as text; a plain text column so IN compares strings (not JSON values)."""
    return Cast(KT(f"{field}__{key}"), output_field=TextField())


def _filter_condition(charge_filter: ChargeFilter, columns: dict[str, str]) -> Q:
    condition = Q()
    for key, values in charge_filter.values.items():
        if ALL_FILTER_VALUES in values:
            condition &= Q(**{f"{columns[key]}__isnull": False})
        else:
            condition &= Q(**{f"{columns[key]}__in": values})
    return condition


def _bucketed(rows, field: str, filters, group_keys):
    """Annotate `bucket` (the filter an event counts for) and `g0..gn` (its pricing group)."""
    keys = sorted({key for f in filters for key in f.values})
    columns = {key: f"fkey{index}" for index, key in enumerate(keys)}
    rows = rows.annotate(**{columns[key]: _text(field, key) for key in keys})
    whens = [
        When(_filter_condition(f, columns), then=Value(f.pk)) for f in ordered_filters(filters)
    ]
    bucket = Case(*whens, default=Value(0), output_field=IntegerField()) if whens else Value(0)
    rows = rows.annotate(bucket=bucket)
    return rows.annotate(**{f"g{i}": KT(f"{field}__{key}") for i, key in enumerate(group_keys)})


def base_queryset(metric_code: str, window: Window, filters, group_keys, *, since=None, until=None):
    """Events of the window with `bucket` and `g0..gn` annotations (ORM, not evaluated)."""
    rows = Event.objects.filter(
        external_subscription_id=window.external_subscription_id,
        code=metric_code,
        timestamp__gte=since or window.lower,
        timestamp__lt=until or window.upper,
        error_code="",
        already_billed=False,
    )
    return _bucketed(rows, "properties", filters, group_keys)


def _group_columns(group_keys) -> list[str]:
    return ["bucket", *[f"g{i}" for i in range(len(group_keys))]]


def _key(row: tuple, width: int) -> tuple:
    return (int(row[0]), tuple(row[1:width]))


def _run(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _decimal(value) -> Decimal:
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


Stats = dict[tuple, list]  # (bucket, group) -> [events, sum, max, precise sum]


def _merge(into: Stats, rows, columns: list[str]) -> None:
    for row in rows:
        if not row["n"]:  # a constant bucket and no rows still yields one empty aggregate row
            continue
        key = (int(row["bucket"]), tuple(row[c] for c in columns[1:]))
        n, total, top, precise = into.get(key, [0, None, None, None])
        values = [row["total"], row["top"], row["precise"]]
        into[key] = [
            n + row["n"],
            _plus(total, values[0]),
            top if values[1] is None or (top is not None and top >= values[1]) else values[1],
            _plus(precise, values[2]),
        ]


def _plus(a, b):
    if b is None:
        return a
    return _decimal(b) if a is None else a + _decimal(b)


def _raw_stats(metric, window, filters, group_keys, lower, upper, into: Stats, daily=False):
    """`daily`: grouped by local day of the window too (the day is the group's last value)."""
    if lower >= upper:
        return
    rows = base_queryset(metric.code, window, filters, group_keys, since=lower, until=upper)
    columns = _group_columns(group_keys)
    if daily:
        rows, columns = rows.annotate(dnum=_day_number(TS, window)), [*columns, "dnum"]
    _merge(
        into,
        rows.values(*columns).annotate(
            n=Count("id"),
            total=Sum("value"),
            top=Max("value"),
            precise=Sum("precise_total_amount_cents"),
        ),
        columns,
    )


def _hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _rollups_cover(metric, window, filters, group_keys, lower, upper) -> bool:
    """Every rollup row of the range carries the keys these filters and groups need."""
    needed = sorted({key for f in filters for key in f.values} | set(group_keys))
    if not needed:
        return True
    missing = Q()
    for key in needed:
        missing |= ~Q(dim_keys__contains=f",{key},")
    return not UsageRollup.objects.filter(
        missing,
        external_subscription_id=window.external_subscription_id,
        code=metric.code,
        hour__gte=lower,
        hour__lt=upper,
    ).exists()


def _stats(metric, window, filters, group_keys, lower, upper, daily=False) -> Stats:
    """events/sum/max/precise per bucket over [lower, upper): whole hours from the rollups, the
    partial hours at both edges from the raw events (or everything raw if rollups can't serve).
    `daily`: also per local day of the window (rollups serve only when no local midnight falls
    inside a UTC hour, i.e. whole-hour offsets)."""
    stats: Stats = {}
    first_hour = _hour_floor(lower)
    first_hour = first_hour if first_hour == lower else first_hour + timedelta(hours=1)
    last_hour = _hour_floor(upper)
    if (
        first_hour >= last_hour
        or (daily and not _hours_within_days(window))
        or not _rollups_cover(metric, window, filters, group_keys, first_hour, last_hour)
    ):
        _raw_stats(metric, window, filters, group_keys, lower, upper, stats, daily)
        return stats
    _raw_stats(metric, window, filters, group_keys, lower, first_hour, stats, daily)
    _raw_stats(metric, window, filters, group_keys, last_hour, upper, stats, daily)
    rollups = UsageRollup.objects.filter(
        external_subscription_id=window.external_subscription_id,
        code=metric.code,
        hour__gte=first_hour,
        hour__lt=last_hour,
    )
    columns = _group_columns(group_keys)
    rollups = _bucketed(rollups, "dims", filters, group_keys)
    if daily:
        rollups, columns = rollups.annotate(dnum=_day_number('"hour"', window)), [*columns, "dnum"]
    rows = rollups.values(*columns)
    _merge(
        stats,
        rows.annotate(
            n=Sum("events_count"),
            total=Sum("value_sum"),
            top=Max("value_max"),
            precise=Sum("precise_sum"),
        ),
        columns,
    )
    return stats


def _simple_aggregates(metric: BillableMetric, window: Window, filters, group_keys) -> dict:
    """count, sum, max and the dynamic total per bucket."""
    lower = window.history_start if metric.recurring else window.lower
    buckets = {}
    for key, (n, total, top, precise) in _stats(
        metric, window, filters, group_keys, lower, window.upper
    ).items():
        units_of = _rollup_builders.get(metric.aggregation_type)
        units = units_of(n, total, top) if units_of else ZERO
        buckets[key] = Bucket(key[0], key[1], units, n, precise_total_cents=_decimal(precise))
    return buckets


@builder(COUNT, rollup=True)
def _count_units(events, total, top) -> Decimal:
    return Decimal(events)


@builder(SUM, rollup=True)
def _sum_units(events, total, top) -> Decimal:
    return _decimal(total)


@builder(MAX, rollup=True)
def _max_units(events, total, top) -> Decimal:
    return _decimal(top)


def _events_count(metric, window, filters, group_keys) -> dict:
    stats = _stats(metric, window, filters, group_keys, window.lower, window.upper)
    return {key: values[0] for key, values in stats.items()}


def _inner(metric, window, filters, group_keys, since=None, extra=()):
    rows = base_queryset(metric.code, window, filters, group_keys, since=since)
    if metric.field_name:
        rows = rows.annotate(uval=KT(f"properties__{metric.field_name}"))
        rows = rows.annotate(op=KT("properties__operation_type"))
    fields = [*_group_columns(group_keys), "id", "timestamp", "value", *extra]
    return rows.values(*fields).query.sql_with_params()


@builder(LATEST)
def _latest(metric, window, filters, group_keys) -> dict:
    """The last value of the period per bucket; negative values count as 0 (Lago)."""
    sql, params = _inner(metric, window, filters, group_keys)
    cols = ", ".join(_group_columns(group_keys))
    outer = (
        f"SELECT {cols}, value FROM (SELECT {cols}, value, ROW_NUMBER() OVER "
        f"(PARTITION BY {cols} ORDER BY {TS} DESC, id DESC) AS rn FROM ({sql}) t) x "
        "WHERE rn = 1"
    )
    width = len(group_keys) + 1
    return {_key(r, width): max(_decimal(r[width]), ZERO) for r in _run(outer, params)}


@builder(UNIQUE_COUNT)
def _unique_count(metric, window, filters, group_keys) -> dict:
    """Distinct values whose latest operation is an add (operation_type absent = add)."""
    since = window.history_start if metric.recurring else None
    sql, params = _inner(metric, window, filters, group_keys, since=since, extra=("uval", "op"))
    cols = ", ".join(_group_columns(group_keys))
    outer = (
        f"SELECT {cols}, COUNT(*) FROM (SELECT {cols}, op, ROW_NUMBER() OVER "
        f"(PARTITION BY {cols}, uval ORDER BY {TS} DESC, id DESC) AS rn "
        f"FROM ({sql}) t WHERE uval IS NOT NULL) x "
        f"WHERE rn = 1 AND (op IS NULL OR op <> 'remove') GROUP BY {cols}"
    )
    width = len(group_keys) + 1
    return {_key(r, width): Decimal(r[width]) for r in _run(outer, params)}


def _epoch(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM {column})"
    return f"((julianday({column}) - 2440587.5) * 86400.0)"


@builder(WEIGHTED_SUM)
def _weighted_sum(metric, window, filters, group_keys) -> dict:
    """Time-weighted level over the period: event values are increments of a level (e.g. GB);
    each level counts for the seconds it lasted, divided by the period's seconds. A recurring
    metric starts the period at the level reached before it."""
    cols = ", ".join(_group_columns(group_keys))
    period_sql, params = _inner(metric, window, filters, group_keys)
    parts = [f"SELECT {cols}, {TS}, id, value FROM ({period_sql}) p"]
    if metric.recurring and window.history_start < window.lower:
        before = Window(
            window.external_subscription_id,
            window.history_start,
            window.lower,
            window.history_start,
        )
        before_sql, before_params = _inner(metric, before, filters, group_keys)
        parts.append(
            f"SELECT {cols}, {_timestamp_param()} AS {TS}, 0 AS id, SUM(value) AS value "
            f"FROM ({before_sql}) b GROUP BY {cols}"
        )
        params = (*params, _db_datetime(window.lower), *before_params)
    order = f"PARTITION BY {cols} ORDER BY {TS}, id"
    levels = (
        f"SELECT {cols}, {TS}, SUM(value) OVER ({order}) AS level, "
        f"LEAD({TS}) OVER ({order}) AS next_ts FROM ({' UNION ALL '.join(parts)}) u"
    )
    until = _epoch(f"COALESCE(next_ts, {_timestamp_param()})")
    outer = (
        f"SELECT {cols}, SUM(level * ({until} - {_epoch(TS)})) FROM ({levels}) w GROUP BY {cols}"
    )
    seconds = Decimal(str((window.upper - window.lower).total_seconds()))
    width = len(group_keys) + 1
    results = {}
    for row in _run(outer, (_db_datetime(window.upper), *params)):
        results[_key(row, width)] = _decimal(row[width]) / seconds if seconds else ZERO
    return results


def _timestamp_param() -> str:
    """A datetime parameter typed for UNION/COALESCE with the timestamp column."""
    return "CAST(%s AS timestamp with time zone)" if connection.vendor == "postgresql" else "%s"


def _db_datetime(moment: datetime):
    if connection.vendor == "postgresql":
        return moment
    return connection.ops.adapt_datetimefield_value(moment)


def _first_events_total(metric, window, filters, group_keys, count: int) -> dict:
    """Sum of the values of the first `count` events per bucket (percentage free events)."""
    sql, params = _inner(metric, window, filters, group_keys)
    cols = ", ".join(_group_columns(group_keys))
    outer = (
        f"SELECT {cols}, SUM(value) FROM (SELECT {cols}, value, ROW_NUMBER() OVER "
        f"(PARTITION BY {cols} ORDER BY {TS}, id) AS rn FROM ({sql}) t) x "
        f"WHERE rn <= %s GROUP BY {cols}"
    )
    width = len(group_keys) + 1
    return {_key(r, width): _decimal(r[width]) for r in _run(outer, (*params, count))}


def _clamped(expression: str, low, high) -> str:
    if low is not None:
        expression = f"CASE WHEN ({expression}) < %s THEN %s ELSE ({expression}) END"
    if high is not None:
        expression = f"CASE WHEN ({expression}) > %s THEN %s ELSE ({expression}) END"
    return expression


def _percentage_fees(metric, window, filters, group_keys, bucket_id: int, properties) -> dict:
    """Sum of per-transaction fees clamped to [min, max], event by event in SQL. Free events and
    free amount are used up in time order, as plans.pricing._paid_values does."""
    sql, params = _inner(metric, window, filters, group_keys)
    cols = ", ".join(_group_columns(group_keys))
    free_events = int(properties.get("free_units_per_events") or 0)
    free_total = _decimal(properties.get("free_units_per_total_aggregation"))
    low, high = (
        properties.get("per_transaction_min_amount"),
        properties.get("per_transaction_max_amount"),
    )
    v = "CASE WHEN value > 0 THEN value ELSE 0 END"
    order = f"PARTITION BY {cols} ORDER BY {TS}, id"
    ranked = (
        f"SELECT {cols}, {v} AS v, ROW_NUMBER() OVER ({order}) AS rn, "
        f"COALESCE(SUM({v}) OVER ({order} ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)"
        f" AS prev FROM ({sql}) t WHERE bucket = %s"
    )
    left = "CASE WHEN %s - prev > 0 THEN %s - prev ELSE 0 END"  # free amount still left
    after_amount = f"v - CASE WHEN v < ({left}) THEN v ELSE ({left}) END"
    if free_events and free_total:
        paid, paid_params = (
            f"CASE WHEN rn <= %s THEN {after_amount} ELSE v END",
            [free_events, *[free_total] * 4],
        )
    elif free_events:
        paid, paid_params = "CASE WHEN rn <= %s THEN 0 ELSE v END", [free_events]
    elif free_total:
        paid, paid_params = after_amount, [free_total] * 4
    else:
        paid, paid_params = "v", []
    rate, fixed = _decimal(properties.get("rate")), _decimal(properties.get("fixed_amount"))
    fee = _clamped("paid * %s / 100 + %s", low, high)
    fee_params = [rate, fixed]
    if low is not None:
        fee_params = [*fee_params, _decimal(low), _decimal(low), *fee_params]
    if high is not None:
        fee_params = [*fee_params, _decimal(high), _decimal(high), *fee_params]
    outer = (
        f"SELECT {cols}, SUM(CASE WHEN paid > 0 THEN {fee} ELSE 0 END) FROM "
        f"(SELECT {cols}, {paid} AS paid FROM ({ranked}) r) p GROUP BY {cols}"
    )
    all_params = [*fee_params, *paid_params, *params, bucket_id]  # in placeholder order
    width = len(group_keys) + 1
    return {_key(r, width): _decimal(r[width]) for r in _run(outer, _db_numbers(all_params))}


# --- prorated charges: units by the local days they were present ------------------------------
#
# A prorated charge bills each unit for the days it was present over the charges period's days
# (Lago's prorated_aggregations: sum and unique_count of recurring metrics). Days are local days
# of the customer's zone: the SQL shifts each instant by the zone's UTC offset in force then
# (from zoneinfo, the same data as plans.periods, so both databases agree with the base fee).


def _offset_case(column: str, window: Window) -> tuple[str, list]:
    """CASE giving the zone's UTC offset (seconds) at `column`, and its parameters."""
    pairs = periods.utc_offsets(window.proration.tz, window.lower, window.upper)
    if len(pairs) == 1:
        return str(pairs[0][1]), []
    steps = list(itertools.pairwise(pairs))
    whens = " ".join(f"WHEN {column} < %s THEN {offset}" for (_, offset), _ in steps)
    params = [_db_datetime(start) for _, (start, _) in steps]
    return f"(CASE {whens} ELSE {pairs[-1][1]} END)", params


def _day_number_sql(column: str, window: Window) -> tuple[str, list]:
    """The local day of an instant of the window, counted from the window's first day (0)."""
    offset, params = _offset_case(column, window)
    first_day = window.first_day
    if connection.vendor == "postgresql":
        sql = (
            f"(CAST(({column} AT TIME ZONE 'UTC') + {offset} * INTERVAL '1 second' AS date)"
            " - CAST(%s AS date))"
        )
        return sql, [*params, first_day]
    sql = f"CAST(julianday(date({column}, {offset} || ' seconds')) - julianday(%s) AS INTEGER)"
    return sql, [*params, first_day.isoformat()]


def _day_number(column: str, window: Window) -> RawSQL:
    sql, params = _day_number_sql(column, window)
    # only our own text: a column name, whole-second offsets; instants and dates are parameters
    return RawSQL(sql, params, output_field=IntegerField())  # noqa: S611


def _hours_within_days(window: Window) -> bool:
    """Whether every UTC hour lies within one local day (whole-hour offsets changing on the
    hour), so an hourly rollup row can be put on the day of its start."""
    return all(
        offset % 3600 == 0 and (index == 0 or (start.minute, start.second) == (0, 0))
        for index, (start, offset) in enumerate(
            periods.utc_offsets(window.proration.tz, window.lower, window.upper)
        )
    )


def _sum_peaks(metric, window, filters, group_keys) -> dict:
    """The highest running total of the window's events per bucket (in time order)."""
    sql, params = _inner(metric, window, filters, group_keys)
    cols = ", ".join(_group_columns(group_keys))
    outer = (
        f"SELECT {cols}, MAX(running) FROM (SELECT {cols}, SUM(value) OVER (PARTITION BY {cols} "
        f"ORDER BY {TS}, id ROWS UNBOUNDED PRECEDING) AS running FROM ({sql}) t) x "
        f"GROUP BY {cols}"
    )
    width = len(group_keys) + 1
    return {_key(r, width): _decimal(r[width]) for r in _run(outer, params)}


@builder(SUM, prorated=True)
def _prorated_sums(metric, window, filters, group_keys, buckets, graduated: bool) -> dict:
    """Sum metric: each day's net change counts for the days left in the window; what was
    carried over from earlier periods counts for all of them (Lago's prorated SumService)."""
    days = window.days
    daily: dict = {}
    for (bucket_id, group), values in _stats(
        metric, window, filters, group_keys, window.lower, window.upper, daily=True
    ).items():
        rows = daily.setdefault((bucket_id, group[:-1]), {})
        day = int(group[-1])
        rows[day] = rows.get(day, ZERO) + _decimal(values[1])
    peaks = _sum_peaks(metric, window, filters, group_keys) if graduated else {}
    result = {}
    for key, bucket in buckets.items():
        in_window = daily.get(key, {})
        carried = bucket.units - sum(in_window.values(), ZERO)
        by_days = {days: carried}
        for day, units in in_window.items():
            by_days[days - day] = by_days.get(days - day, ZERO) + units
        unit_days = tuple(
            (d, units) for d, units in sorted(by_days.items(), reverse=True) if units and d > 0
        )
        peak = carried + max(peaks.get(key, ZERO), ZERO)  # the running total's highest point
        result[key] = (unit_days, None, max(peak, bucket.units))
    return result


def _presence_sql(metric, window, filters, group_keys) -> tuple[str, list, str]:
    """CTEs ending in `presence`: one row per stretch a unique value was present that overlaps
    the window, with its days (add to removal, both included, clipped to the window; Lago's
    prorated unique count), the add's (ts, id) and the removal's when it is inside the window.

    Lago's rules: a repeated add or remove changes nothing; a remove followed by an add of the
    same value on the same local day is ignored (no gap). Events before the window share day -1,
    which cannot change what overlaps the window."""
    cols = ", ".join(_group_columns(group_keys))
    inner, params = _inner(
        metric, window, filters, group_keys, since=window.history_start, extra=("uval", "op")
    )
    day_sql, day_params = _day_number_sql(TS, window)
    last = window.days - 1
    sql = (
        f"WITH e AS (SELECT {cols}, uval, id, {TS} AS ts, "
        "CASE WHEN op = 'remove' THEN 0 ELSE 1 END AS is_add, "
        f"CASE WHEN {TS} < %s THEN -1 ELSE {day_sql} END AS dnum "
        f"FROM ({inner}) t WHERE uval IS NOT NULL), "
        "k AS (SELECT e.*, MAX(CASE WHEN is_add = 1 THEN ts END) "
        f"OVER (PARTITION BY {cols}, uval, dnum) AS last_add FROM e), "
        f"r AS (SELECT {cols}, uval, id, ts, is_add, dnum, LAG(is_add, 1, 0) "
        f"OVER (PARTITION BY {cols}, uval ORDER BY ts, id) AS was_add FROM k "
        "WHERE is_add = 1 OR last_add IS NULL OR last_add <= ts), "
        f"c AS (SELECT {cols}, uval, id, ts, is_add, dnum, "
        f"LEAD(dnum) OVER (PARTITION BY {cols}, uval ORDER BY ts, id) AS end_dnum, "
        f"LEAD(ts) OVER (PARTITION BY {cols}, uval ORDER BY ts, id) AS end_ts, "
        f"LEAD(id) OVER (PARTITION BY {cols}, uval ORDER BY ts, id) AS end_id "
        "FROM r WHERE is_add <> was_add), "
        f"presence AS (SELECT {cols}, id, ts, end_dnum, end_ts, end_id, "
        f"COALESCE(end_dnum, {last}) - CASE WHEN dnum < 0 THEN 0 ELSE dnum END + 1 AS days "
        "FROM c WHERE is_add = 1 AND (end_dnum IS NULL OR end_dnum >= 0))"
    )
    return sql, [_db_datetime(window.lower), *day_params, *params], cols  # placeholder order


@builder(UNIQUE_COUNT, prorated=True)
def _prorated_unique_counts(metric, window, filters, group_keys, buckets, graduated: bool):
    """Unique count: each value counts for the days it was present."""
    ctes, params, cols = _presence_sql(metric, window, filters, group_keys)
    width = len(group_keys) + 1
    histogram: dict = {}
    query = f"{ctes} SELECT {cols}, days, COUNT(*) FROM presence GROUP BY {cols}, days"
    for row in _run(query, params):
        histogram.setdefault(_key(row, width), []).append((int(row[width]), row[width + 1]))
    positions: dict = {}
    if graduated:  # Lago's rule: a value's tier is its position among the values when added
        query = (
            f"{ctes}, moves AS (SELECT {cols}, ts, id, 1 AS v, days FROM presence UNION ALL "
            f"SELECT {cols}, end_ts, end_id, -1, 0 FROM presence WHERE end_dnum IS NOT NULL), "
            f"stacked AS (SELECT {cols}, v, days, SUM(v) OVER (PARTITION BY {cols} "
            "ORDER BY ts, id ROWS UNBOUNDED PRECEDING) AS pos FROM moves) "
            f"SELECT {cols}, pos, days, COUNT(*) FROM stacked WHERE v = 1 "
            f"GROUP BY {cols}, pos, days"
        )
        for row in _run(query, params):
            entry = (Decimal(row[width]), int(row[width + 1]), int(row[width + 2]))
            positions.setdefault(_key(row, width), []).append(entry)
    result = {}
    for key, bucket in buckets.items():
        unit_days = tuple(
            (d, Decimal(n)) for d, n in sorted(histogram.get(key, []), reverse=True) if d > 0
        )
        stack = tuple(sorted(positions.get(key, []))) if graduated else None
        peak = max((entry[0] for entry in stack or ()), default=ZERO)
        result[key] = (unit_days, stack, max(peak, bucket.units))
    return result


PRORATED_MODELS = tuple(spec.key for spec in SPECS if spec.prorated)  # standard, graduated, volume


def prorates(charge: Charge) -> bool:
    """Whether the charge is priced prorated: `prorated` on a recurring sum or unique count with
    standard, graduated or volume (Lago; the plan services refuse other combinations)."""
    metric = charge.billable_metric
    return bool(
        charge.prorated
        and metric.recurring
        and metric.aggregation_type in _prorated_builders
        and charge.charge_model in PRORATED_MODELS
    )


def _prorate(charge, metric, window, filters, group_keys, buckets: dict) -> None:
    aggregate = _prorated_builders[metric.aggregation_type]
    graduated = REGISTRY[charge.charge_model].stacks_positions  # graduated: arrival order
    period_days = window.proration.period_days
    if window.days <= 0:
        computed = {}
    else:
        computed = aggregate(metric, window, filters, group_keys, buckets, graduated)
    for key, bucket in buckets.items():
        unit_days, positions, peak = computed.get(key, ((), None, ZERO))
        bucket.proration = pricing.Proration(
            period_days=period_days, unit_days=unit_days, positions=positions, peak=peak
        )


def _db_numbers(params: list) -> list:
    """SQLite has no decimal type (its NUMERIC columns hold doubles): pass prices as doubles so
    comparisons and divisions are numeric there. PostgreSQL computes in exact numeric."""
    if connection.vendor == "postgresql":
        return params
    return [float(p) if isinstance(p, Decimal) else p for p in params]


def aggregate_charge(
    charge: Charge, window: Window, filters: list[ChargeFilter] | None = None
) -> list[Bucket]:
    """Aggregated usage of a charge in a window, one Bucket per (filter, group) with events."""
    metric = charge.billable_metric
    filters = list(charge.filters.live()) if filters is None else filters
    group_keys = list(charge.properties.get("pricing_group_keys") or [])
    buckets = _simple_aggregates(metric, window, filters, group_keys)
    if metric.recurring:  # units carry over from history; the events count is the period's
        counts = _events_count(metric, window, filters, group_keys)
        for key, bucket in buckets.items():
            bucket.events_count = counts.get(key, 0)
    special = _query_builders.get(metric.aggregation_type)
    if special is not None:
        for bucket in buckets.values():
            bucket.units = ZERO
        for key, units in special(metric, window, filters, group_keys).items():
            buckets.setdefault(key, Bucket(key[0], key[1])).units = units
    if charge.charge_model == "percentage":
        _percentage_extras(charge, metric, window, filters, group_keys, buckets)
    if window.proration is not None and prorates(charge):
        _prorate(charge, metric, window, filters, group_keys, buckets)
    return sorted(buckets.values(), key=lambda b: (b.filter_id, [str(v) for v in b.group]))


def _percentage_extras(charge, metric, window, filters, group_keys, buckets) -> None:
    """Free-events totals and clamped per-transaction fees, per bucket with its own price."""
    free_events = charge.properties.get("free_units_per_events")
    if free_events:
        totals = _first_events_total(metric, window, filters, group_keys, int(free_events))
        for key, total in totals.items():
            buckets[key].first_events_total = total
    prices = {0: charge.properties} | {f.pk: f.properties for f in filters}
    for bucket_id, properties in prices.items():
        if properties.get("per_transaction_min_amount") is None and (
            properties.get("per_transaction_max_amount") is None
        ):
            continue
        fees = _percentage_fees(metric, window, filters, group_keys, bucket_id, properties)
        for key, total in fees.items():
            buckets[key].clamped_fees_total = total
