"""Bulk SQL for the ingestion hot path: dedup keys with ON CONFLICT, events by COPY (PostgreSQL)
or executemany (SQLite). One round trip per step, whatever the batch size."""

import json
from collections.abc import Sequence
from datetime import datetime

from django.db import connection

KEY_COLUMNS = (
    "external_subscription_id",
    "transaction_id",
    "code",
    "timestamp",
    "fingerprint",
    "created_at",
)
EVENT_COLUMNS = (
    "transaction_id",
    "external_subscription_id",
    "code",
    "timestamp",
    "properties",
    "value",
    "precise_total_amount_cents",
    "error_code",
    "already_billed",
    "created_at",
)


def insert_keys(rows: Sequence[tuple]) -> set[tuple[str, str]]:
    """Insert dedup keys; returns the (external_subscription_id, transaction_id) pairs that were
    new. Existing pairs are left alone (a concurrent insert waits on the unique index)."""
    if not rows:
        return set()
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(rows))
    sql = (
        f"INSERT INTO usage_eventkey ({', '.join(KEY_COLUMNS)}) VALUES {placeholders} "
        "ON CONFLICT (external_subscription_id, transaction_id) DO NOTHING "
        "RETURNING external_subscription_id, transaction_id"
    )
    params = [
        _datetime(value) if isinstance(value, datetime) else value for row in rows for value in row
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(ext, tx) for ext, tx in cursor.fetchall()}


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


def insert_events(rows: Sequence[tuple]) -> None:
    """Append events (tuples in EVENT_COLUMNS order, properties as a dict)."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        _copy_events(rows)
        return
    placeholders = ", ".join(["%s"] * len(EVENT_COLUMNS))
    sql = f"INSERT INTO usage_event ({', '.join(EVENT_COLUMNS)}) VALUES ({placeholders})"
    with connection.cursor() as cursor:
        cursor.executemany(sql, [_encode(row) for row in rows])


def _encode(row: tuple) -> tuple:
    """Values as the database backend stores them (Django's own adapters for datetimes)."""
    values = list(row)
    values[3] = _datetime(values[3])
    values[4] = json.dumps(values[4], separators=(",", ":"))
    for index in (5, 6):
        values[index] = None if values[index] is None else str(values[index])
    values[9] = _datetime(values[9])
    return tuple(values)


def _datetime(moment: datetime):
    """SQLite keeps datetimes as naive-UTC text: use Django's adapter so ORM filters match."""
    if connection.vendor == "postgresql":
        return moment
    return connection.ops.adapt_datetimefield_value(moment)


def _copy_events(rows: Sequence[tuple]) -> None:
    """COPY is PostgreSQL's fastest way in; psycopg streams the rows in one round trip."""
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cursor:
        copy_sql = f"COPY usage_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
        with cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(_encode(row))
