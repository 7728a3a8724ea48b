"""PostgreSQL only: concurrent duplicates count once; events live in monthly partitions."""

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection, connections

from core.errors import ValidationFailed
from customers.services import subscription_create
from tests.factories import make_metric, make_plan
from usage import partitions
from usage.models import Event, EventKey
from usage.services import events_ingest

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def subscribed():
    make_metric("tokens", field_name="tokens")
    make_plan("basic")
    subscription_create(
        data={"external_customer_id": "c", "plan_code": "basic", "external_id": "sub"}
    )


def _batch(prefix_range, timestamp="2026-11-02T00:00:00Z"):
    return [
        {
            "transaction_id": f"tx-{i}",
            "external_subscription_id": "sub",
            "code": "tokens",
            "timestamp": timestamp,
            "properties": {"tokens": 1},
        }
        for i in prefix_range
    ]


def test_threads_sending_the_same_transaction_ids_store_each_once(subscribed):
    """Eight threads send overlapping batches at the same moment: every id is stored once."""
    barrier = threading.Barrier(8)
    errors = []

    def send(offset: int):
        try:
            barrier.wait()
            events_ingest(raws=_batch(range(offset, offset + 50)))
        except Exception as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(offset % 4 * 10,)) for offset in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Event.objects.count() == 80 == EventKey.objects.count()  # ids 0..79
    assert Event.objects.values("transaction_id").distinct().count() == 80


def test_a_retry_with_another_timestamp_in_another_partition_is_still_refused(subscribed):
    events_ingest(raws=_batch(range(1), timestamp="2026-11-02T00:00:00Z"))
    with pytest.raises(ValidationFailed):
        events_ingest(raws=_batch(range(1), timestamp="2026-10-02T00:00:00Z"))
    assert Event.objects.count() == 1


def _partition_of(transaction_id: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM usage_event WHERE transaction_id = %s",
            [transaction_id],
        )
        return cursor.fetchone()[0]


def test_events_land_in_their_month_and_new_months_take_rows_from_default(subscribed):
    events_ingest(raws=_batch(range(1), timestamp="2026-11-02T00:00:00Z"))
    assert _partition_of("tx-0") == "usage_event_p2026_11"
    old = [{**_batch(range(1, 2))[0], "timestamp": "2020-05-05T00:00:00Z"}]
    events_ingest(raws=old)
    assert _partition_of("tx-1") == "usage_event_default"
    assert partitions.ensure_month(date(2020, 5, 1)) is True
    assert partitions.ensure_month(date(2020, 5, 1)) is False  # already there
    assert _partition_of("tx-1") == "usage_event_p2020_05"
    assert Event.objects.filter(timestamp__lt=datetime(2021, 1, 1, tzinfo=UTC)).count() == 1


def test_an_old_month_can_be_detached(subscribed):
    partitions.ensure_month(date(2019, 1, 1))
    assert "usage_event_p2019_01" in partitions.existing_partitions()
    partitions.detach_month(date(2019, 1, 1))
    assert "usage_event_p2019_01" not in partitions.existing_partitions()
