"""Bulk SQL for the ingestion hot path.

`store` writes, for the events whose (external_subscription_id, transaction_id) is new: the dedup
key, the event and its hourly rollup. On PostgreSQL that is one statement (data-modifying CTEs:
the key insert's RETURNING decides which events and rollup increments follow), whatever the batch
size; on SQLite three. Rows are written in key order so concurrent batches cannot deadlock.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import orjson
from django.db import connection


@dataclass
class EventRow:
    external_subscription_id: str
    transaction_id: str
    code: str
    timestamp: datetime
    fingerprint: str
    properties: dict
    value: Decimal | None
    precise_total_amount_cents: Decimal | None
    error_code: str
    already_billed: bool
    created_at: datetime
    dims: dict | None  # rollup dimensions; None = not rolled up (unmatched or imported-billed)
    dim_keys: str = ","  # the properties the dims looked at, ",a,b,"


def _json(value) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True, separators=(",", ":"))


def _decimal(value) -> str | None:
    return None if value is None else str(value)


def store(rows: Sequence[EventRow]) -> set[tuple[str, str]]:
    """Write the new events of `rows`; returns the (external_subscription_id, transaction_id)
    pairs that were new (the others already had a key)."""
    if not rows:
        return set()
    rows = sorted(rows, key=lambda r: (r.external_subscription_id, r.transaction_id))
    if connection.vendor == "postgresql":
        return _store_postgres(rows)
    return _store_sqlite(rows)


_PG_STORE = """
WITH input AS (
    SELECT * FROM jsonb_to_recordset(%s::jsonb) AS r(ext text, tx text, code text,
        ts timestamptz, fp text, props jsonb, value numeric, precise numeric, err text,
        billed boolean, created timestamptz, dims jsonb, dkeys text)
),
keys AS (
    INSERT INTO usage_eventkey
        (external_subscription_id, transaction_id, code, "timestamp", fingerprint, created_at)
    SELECT ext, tx, code, ts, fp, created FROM input
    ON CONFLICT (external_subscription_id, transaction_id) DO NOTHING
    RETURNING external_subscription_id, transaction_id
),
new AS (
    SELECT i.* FROM input i
    JOIN keys k ON k.external_subscription_id = i.ext AND k.transaction_id = i.tx
),
events AS (
    INSERT INTO usage_event (transaction_id, external_subscription_id, code, "timestamp",
        properties, value, precise_total_amount_cents, error_code, already_billed, created_at)
    SELECT tx, ext, code, ts, props, value, precise, err, billed, created FROM new
),
rollups AS (
    INSERT INTO usage_usagerollup (external_subscription_id, code, hour, dim_keys, dims,
        events_count, value_sum, value_max, precise_sum)
    SELECT ext, code, date_trunc('hour', ts AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', dkeys, dims,
        count(*), sum(value), max(value), sum(precise)
    FROM new WHERE dims IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (external_subscription_id, code, hour, dim_keys, dims) DO UPDATE SET
        events_count = usage_usagerollup.events_count + EXCLUDED.events_count,
        value_sum = CASE WHEN EXCLUDED.value_sum IS NULL THEN usage_usagerollup.value_sum
            ELSE COALESCE(usage_usagerollup.value_sum, 0) + EXCLUDED.value_sum END,
        value_max = GREATEST(usage_usagerollup.value_max, EXCLUDED.value_max),
        precise_sum = CASE WHEN EXCLUDED.precise_sum IS NULL THEN usage_usagerollup.precise_sum
            ELSE COALESCE(usage_usagerollup.precise_sum, 0) + EXCLUDED.precise_sum END
)
SELECT ext, tx FROM new
"""


def _store_postgres(rows: Sequence[EventRow]) -> set[tuple[str, str]]:
    """One statement, one parameter: the rows as a JSON array (serialised in C by orjson,
    parsed in C by PostgreSQL), so neither side spends time per value in Python."""
    payload = orjson.dumps(
        [
            {
                "ext": r.external_subscription_id,
                "tx": r.transaction_id,
                "code": r.code,
                "ts": r.timestamp,
                "fp": r.fingerprint,
                "props": r.properties,
                "value": _decimal(r.value),
                "precise": _decimal(r.precise_total_amount_cents),
                "err": r.error_code,
                "billed": r.already_billed,
                "created": r.created_at,
                "dims": r.dims,
                "dkeys": r.dim_keys,
            }
            for r in rows
        ],
        default=str,
    ).decode()
    with connection.cursor() as cursor:
        cursor.execute(_PG_STORE, [payload])
        return {(ext, tx) for ext, tx in cursor.fetchall()}


def _sqlite_time(moment: datetime) -> str:
    """SQLite keeps datetimes as naive-UTC text: Django's adapter, so ORM filters match."""
    return connection.ops.adapt_datetimefield_value(moment)


def _store_sqlite(rows: Sequence[EventRow]) -> set[tuple[str, str]]:
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    key_params = []
    for r in rows:
        key_params += [
            r.external_subscription_id,
            r.transaction_id,
            r.code,
            _sqlite_time(r.timestamp),
            r.fingerprint,
            _sqlite_time(r.created_at),
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO usage_eventkey (external_subscription_id, transaction_id, code, "
            f'"timestamp", fingerprint, created_at) VALUES {placeholders} '
            "ON CONFLICT (external_subscription_id, transaction_id) DO NOTHING "
            "RETURNING external_subscription_id, transaction_id",
            key_params,
        )
        inserted = {(ext, tx) for ext, tx in cursor.fetchall()}
        new = [r for r in rows if (r.external_subscription_id, r.transaction_id) in inserted]
        cursor.executemany(
            "INSERT INTO usage_event (transaction_id, external_subscription_id, code, "
            '"timestamp", properties, value, precise_total_amount_cents, error_code, '
            "already_billed, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    r.transaction_id,
                    r.external_subscription_id,
                    r.code,
                    _sqlite_time(r.timestamp),
                    _json(r.properties),
                    _decimal(r.value),
                    _decimal(r.precise_total_amount_cents),
                    r.error_code,
                    r.already_billed,
                    _sqlite_time(r.created_at),
                )
                for r in new
            ],
        )
        cursor.executemany(_SQLITE_ROLLUP, _rollup_increments(new))
    return inserted


_SQLITE_ROLLUP = """
INSERT INTO usage_usagerollup (external_subscription_id, code, hour, dim_keys, dims,
    events_count, value_sum, value_max, precise_sum) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (external_subscription_id, code, hour, dim_keys, dims) DO UPDATE SET
    events_count = events_count + excluded.events_count,
    value_sum = CASE WHEN excluded.value_sum IS NULL THEN value_sum
        ELSE COALESCE(value_sum, 0) + excluded.value_sum END,
    value_max = CASE WHEN value_max IS NULL OR excluded.value_max > value_max
        THEN excluded.value_max ELSE value_max END,
    precise_sum = CASE WHEN excluded.precise_sum IS NULL THEN precise_sum
        ELSE COALESCE(precise_sum, 0) + excluded.precise_sum END
"""


def _add(total, value):
    if value is None:
        return total
    return value if total is None else total + value


def _rollup_increments(rows: Sequence[EventRow]) -> list[tuple]:
    """Rows aggregated per (subscription, code, hour, dims), in key order."""
    groups: dict[tuple, list] = {}
    for r in rows:
        if r.dims is None:
            continue
        hour = r.timestamp.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        key = (r.external_subscription_id, r.code, _sqlite_time(hour), r.dim_keys, _json(r.dims))
        count, total, top, precise = groups.get(key, (0, None, None, None))
        top = r.value if top is None or (r.value is not None and r.value > top) else top
        groups[key] = [
            count + 1,
            _add(total, r.value),
            top,
            _add(precise, r.precise_total_amount_cents),
        ]
    return [
        (*key, count, _decimal(total), _decimal(top), _decimal(precise))
        for key, (count, total, top, precise) in sorted(groups.items())
    ]


def existing_fingerprints(pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Fingerprints of already stored (external_subscription_id, transaction_id) pairs."""
    found: dict[tuple[str, str], str] = {}
    for start in range(0, len(pairs), 500):
        chunk = pairs[start : start + 500]
        values = ", ".join(["(%s, %s)"] * len(chunk))
        params = [value for pair in chunk for value in pair]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT external_subscription_id, transaction_id, fingerprint FROM usage_eventkey "
                f"WHERE (external_subscription_id, transaction_id) IN (VALUES {values})",
                params,
            )
            found.update({(ext, tx): fp for ext, tx, fp in cursor.fetchall()})
    return found
