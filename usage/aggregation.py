"""Usage aggregation in SQL: one query per charge, grouped by filter bucket and pricing group.

Events are never loaded into Python: the database returns one row per (bucket, group). The bucket
is a CASE over the charge's filters in most-specific-first order, so an event matching several
filters counts for the most specific one, and events matching none go to the charge's default
bucket (0). Pricing group keys add GROUP BY columns on the event properties.

count/sum/max and dynamic totals are plain aggregates; latest, unique_count (with add/remove),
weighted_sum and "the first N events" use window functions over an inner ORM query that is wrapped
in raw SQL (the ORM cannot aggregate over a window). Both SQLite and PostgreSQL run the same SQL
apart from seconds-since-epoch.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Case, Count, IntegerField, Max, Q, Sum, TextField, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from plans.models import AggregationType, BillableMetric, Charge, ChargeFilter
from usage.models import Event, UsageRollup

ALL_FILTER_VALUES = "__ALL_FILTER_VALUES__"
ZERO = Decimal(0)
TS = '"timestamp"'  # quoted: a keyword in PostgreSQL


@dataclass(frozen=True)
class Window:
    """What to aggregate: a subscription's events of one metric in [lower, upper)."""

    external_subscription_id: str
    lower: datetime
    upper: datetime
    history_start: datetime  # recurring metrics carry usage from here (the lineage's start)


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


def _raw_stats(metric, window, filters, group_keys, lower, upper, into: Stats) -> None:
    if lower >= upper:
        return
    rows = base_queryset(metric.code, window, filters, group_keys, since=lower, until=upper)
    columns = _group_columns(group_keys)
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


def _stats(metric, window, filters, group_keys, lower, upper) -> Stats:
    """events/sum/max/precise per bucket over [lower, upper): whole hours from the rollups, the
    partial hours at both edges from the raw events (or everything raw if rollups can't serve)."""
    stats: Stats = {}
    first_hour = _hour_floor(lower)
    first_hour = first_hour if first_hour == lower else first_hour + timedelta(hours=1)
    last_hour = _hour_floor(upper)
    if first_hour >= last_hour or not _rollups_cover(
        metric, window, filters, group_keys, first_hour, last_hour
    ):
        _raw_stats(metric, window, filters, group_keys, lower, upper, stats)
        return stats
    _raw_stats(metric, window, filters, group_keys, lower, first_hour, stats)
    _raw_stats(metric, window, filters, group_keys, last_hour, upper, stats)
    rollups = UsageRollup.objects.filter(
        external_subscription_id=window.external_subscription_id,
        code=metric.code,
        hour__gte=first_hour,
        hour__lt=last_hour,
    )
    columns = _group_columns(group_keys)
    rows = _bucketed(rollups, "dims", filters, group_keys).values(*columns)
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
        units = {
            AggregationType.COUNT: Decimal(n),
            AggregationType.SUM: _decimal(total),
            AggregationType.MAX: _decimal(top),
        }.get(metric.aggregation_type, ZERO)
        buckets[key] = Bucket(key[0], key[1], units, n, precise_total_cents=_decimal(precise))
    return buckets


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
    special = {
        AggregationType.LATEST: _latest,
        AggregationType.UNIQUE_COUNT: _unique_count,
        AggregationType.WEIGHTED_SUM: _weighted_sum,
    }.get(metric.aggregation_type)
    if special is not None:
        for bucket in buckets.values():
            bucket.units = ZERO
        for key, units in special(metric, window, filters, group_keys).items():
            buckets.setdefault(key, Bucket(key[0], key[1])).units = units
    if charge.charge_model == "percentage":
        _percentage_extras(charge, metric, window, filters, group_keys, buckets)
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
