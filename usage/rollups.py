"""Rebuild hourly rollups from the raw events (after a bulk load that bypassed ingestion, or to
add dimensions for a new filter or pricing group). Grouping happens in SQL; Python only shapes
the grouped rows (one per hour and dimension values) into rollup rows."""

from datetime import UTC, datetime

from django.db import connection, transaction

from usage.catalog_cache import metrics_info
from usage.models import Event, UsageRollup


def _hour_sql() -> str:
    if connection.vendor == "postgresql":
        return "date_trunc('hour', \"timestamp\" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    return "strftime('%%Y-%%m-%%d %%H:00:00', \"timestamp\")"


def _key_sql(index: int) -> str:
    if connection.vendor == "postgresql":
        return f"properties ->> %s AS k{index}"
    return f"CAST(json_extract(properties, '$.' || %s) AS text) AS k{index}"


@transaction.atomic
def rollups_rebuild(*, external_subscription_id: str | None = None) -> int:
    """Replace the rollups of one subscription (or all) with fresh ones; returns rows written."""
    scope = Event.objects.filter(error_code="", already_billed=False)
    rollups = UsageRollup.objects.all()
    if external_subscription_id:
        scope = scope.filter(external_subscription_id=external_subscription_id)
        rollups = rollups.filter(external_subscription_id=external_subscription_id)
    rollups.delete()
    codes = set(scope.values_list("code", flat=True).distinct())
    written = 0
    for code, info in metrics_info(codes).items():
        written += _rebuild_metric(code, info.rollup_keys, external_subscription_id)
    return written


def _rebuild_metric(code: str, keys: tuple[str, ...], external_subscription_id) -> int:
    key_columns = ", ".join(_key_sql(i) for i in range(len(keys)))
    group_by = ", ".join(str(i) for i in range(1, 3 + len(keys)))
    where = "code = %s AND error_code = '' AND NOT already_billed"
    params: list = [*keys, code]
    if external_subscription_id:
        where += " AND external_subscription_id = %s"
        params.append(external_subscription_id)
    sql = (
        f"SELECT external_subscription_id, {_hour_sql()} AS hour"
        f"{', ' + key_columns if keys else ''}, COUNT(*), SUM(value), MAX(value), "
        f"SUM(precise_total_amount_cents) FROM usage_event WHERE {where} GROUP BY {group_by}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    dim_keys = ",".join(["", *keys, ""])
    objects = []
    for row in rows:
        values = row[2 : 2 + len(keys)]
        count, total, top, precise = row[2 + len(keys) :]
        objects.append(
            UsageRollup(
                external_subscription_id=row[0],
                code=code,
                hour=_as_datetime(row[1]),
                dim_keys=dim_keys,
                dims={k: v for k, v in zip(keys, values, strict=True) if v is not None},
                events_count=count,
                value_sum=total,
                value_max=top,
                precise_sum=precise,
            )
        )
    UsageRollup.objects.bulk_create(objects, batch_size=1000)
    return len(objects)


def _as_datetime(value) -> datetime:
    """PostgreSQL returns an aware datetime; SQLite the naive-UTC text it stores."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).replace(tzinfo=UTC)
