"""Monthly partitions of the events table on PostgreSQL (no-op on other databases).

The parent table `usage_event` is PARTITION BY RANGE (timestamp) with a DEFAULT partition that
catches months not created yet. A month is added by creating its table, moving any rows the
default partition holds for that month, and attaching it — so it works even after early or
historical events have landed in the default partition. Old months can be detached (and then
archived or dropped) without touching the rest.
"""

from datetime import UTC, date, datetime

from django.db import connection, transaction

PARENT = "usage_event"
DEFAULT = "usage_event_default"


def is_partitioned() -> bool:
    return connection.vendor == "postgresql"


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(month: date) -> str:
    return f"usage_event_p{month:%Y_%m}"


def existing_partitions() -> list[str]:
    """Names of the attached partitions, default excluded."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s ORDER BY c.relname",
            [PARENT],
        )
        return [name for (name,) in cursor.fetchall() if name != DEFAULT]


def ensure_month(month: date) -> bool:
    """Create and attach the partition of `month` if missing. Returns True if created."""
    if not is_partitioned():
        return False
    month = month_start(month)
    name = partition_name(month)
    low = datetime(month.year, month.month, 1, tzinfo=UTC)
    following = add_months(month, 1)
    high = datetime(following.year, following.month, 1, tzinfo=UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [PARENT])
        if name in existing_partitions():
            return False
        cursor.execute(f'CREATE TABLE "{name}" (LIKE "{PARENT}" INCLUDING DEFAULTS)')
        cursor.execute(
            f'WITH moved AS (DELETE FROM "{DEFAULT}" WHERE "timestamp" >= %s AND "timestamp" < %s '
            f'RETURNING *) INSERT INTO "{name}" SELECT * FROM moved',
            [low, high],
        )
        cursor.execute(
            f'ALTER TABLE "{PARENT}" ATTACH PARTITION "{name}" FOR VALUES FROM (%s) TO (%s)',
            [low, high],
        )
    return True


def ensure_months(first: date, count: int) -> list[str]:
    """Ensure `count` consecutive monthly partitions from `first`; names of those created."""
    created = []
    for offset in range(count):
        month = add_months(month_start(first), offset)
        if ensure_month(month):
            created.append(partition_name(month))
    return created


def detach_month(month: date) -> str:
    """Detach a month's partition (its table stays, for archiving or dropping)."""
    name = partition_name(month_start(month))
    if name not in existing_partitions():
        raise ValueError(f"no attached partition {name}")
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{PARENT}" DETACH PARTITION "{name}"')
    return name
