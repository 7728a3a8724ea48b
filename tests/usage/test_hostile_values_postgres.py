"""PostgreSQL: what SQLite cannot show. jsonb turns big JSON numbers into exact integers, a
+14:00 year-1 timestamp becomes 1 BC, numeric(38, 12) holds the whole accepted range."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from customers.services import subscription_create
from tests.factories import make_metric, make_plan
from usage.models import Event
from usage.services import events_ingest

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
NOW = datetime(2024, 3, 10, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def subscribed():
    make_metric("tokens", field_name="tokens")
    make_plan("basic", 0)
    subscription_create(
        data={
            "external_customer_id": "cust",
            "plan_code": "basic",
            "external_id": "sub",
            "subscription_at": "2024-03-01T00:00:00Z",
        }
    )


def ingest(transaction_id: str, **properties) -> None:
    events_ingest(
        raws=[
            {
                "transaction_id": transaction_id,
                "external_subscription_id": "sub",
                "code": "tokens",
                "timestamp": "2024-03-05T00:00:00Z",
                "properties": {"tokens": 1, **properties},
            }
        ]
    )


def test_the_largest_accepted_value_is_stored_exactly(api, subscribed):
    event = {"transaction_id": "max", "external_subscription_id": "sub", "code": "tokens"}
    event["properties"] = {"tokens": "-999999999999999.999999999999"}
    assert api.post("/api/v1/events", {"event": event}).status_code == 200
    assert Event.objects.get().value == Decimal("-999999999999999.999999999999")


def test_a_float_property_stored_before_the_checks_reads_back_as_a_string(api, subscribed):
    ingest("old")
    with connection.cursor() as cursor:  # jsonb keeps 1e308 as a 309-digit integer
        cursor.execute(
            'UPDATE usage_event SET properties = \'{"tokens": 1, "seen": 1e308}\'::jsonb'
        )
    listed = api.get("/api/v1/events")
    assert listed.status_code == 200
    assert listed.json()["events"][0]["properties"]["seen"] == str(10**308)
    assert api.get("/api/v1/events/old").json()["event"]["properties"]["seen"] == str(10**308)


def test_a_year_one_bc_timestamp_stored_before_the_checks_breaks_no_read(
    api, admin_client, subscribed
):
    ingest("good")
    ingest("bc")
    with connection.cursor() as cursor:
        for table in ("usage_event", "usage_eventkey"):
            cursor.execute(
                f"UPDATE {table} SET timestamp = '0001-01-01T00:00:00+14:00' "
                "WHERE transaction_id = 'bc'"
            )
    listed = api.get("/api/v1/events")
    assert listed.status_code == 200
    assert [e["transaction_id"] for e in listed.json()["events"]] == ["good"]
    assert api.get("/api/v1/events/bc").status_code == 404
    changelist = admin_client.get(reverse("admin:usage_event_changelist"))
    assert changelist.status_code == 200
    assert "good" in changelist.content.decode()
