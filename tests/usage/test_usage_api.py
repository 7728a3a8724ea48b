"""current_usage, past_usage and estimate_fees through the API; the events admin."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from customers.services import subscription_create
from tests.factories import make_metric, make_plan
from usage.services import events_ingest

pytestmark = pytest.mark.django_db


@pytest.fixture
def metered():
    with time_machine.travel(datetime(2024, 1, 10, tzinfo=UTC), tick=False):
        calls = make_metric("calls", "count_agg")
        make_plan(
            "payg",
            0,
            charges=[
                {
                    "billable_metric_id": str(calls.lago_id),
                    "charge_model": "package",
                    "properties": {"amount": "5", "package_size": 100, "free_units": 50},
                },
                {
                    "billable_metric_id": str(calls.lago_id),
                    "charge_model": "standard",
                    "pay_in_advance": True,
                    "properties": {"amount": "0.1"},
                },
            ],
        )
        subscription_create(
            data={
                "external_customer_id": "c",
                "plan_code": "payg",
                "external_id": "s",
                "billing_time": "anniversary",
            }
        )
    events_ingest(
        raws=[
            {
                "transaction_id": f"{month}-{i}",
                "external_subscription_id": "s",
                "code": "calls",
                "timestamp": f"2024-0{month}-15T00:00:00Z",
            }
            for month, count in ((1, 120), (2, 40), (3, 1))
            for i in range(count)
        ],
        now=datetime(2024, 3, 16, tzinfo=UTC),
    )


@time_machine.travel(datetime(2024, 3, 16, tzinfo=UTC), tick=False)
def test_past_usage_lists_closed_periods_newest_first(api, metered):
    response = api.get("/api/v1/customers/c/past_usage?external_subscription_id=s")
    assert response.status_code == 200
    body = response.json()
    periods = [
        (p["from_datetime"], p["to_datetime"], p["amount_cents"]) for p in body["usage_periods"]
    ]
    # Anniversary on the 10th. Jan 10-Feb 9: 120 calls → package 70 paid → 1 package of 100 = $5
    # + 120 x $0.10 = $12 → $17. Feb 10-Mar 9: 40 calls → 0 packages + $4.
    assert periods == [
        ("2024-02-10T00:00:00Z", "2024-03-09T23:59:59Z", 400),
        ("2024-01-10T00:00:00Z", "2024-02-09T23:59:59Z", 1700),
    ]
    assert body["meta"]["total_count"] == 2
    current = api.get("/api/v1/customers/c/current_usage?external_subscription_id=s").json()
    assert current["customer_usage"]["amount_cents"] == 10  # 1 call: $0.10 + 0 packages


@time_machine.travel(datetime(2024, 3, 16, tzinfo=UTC), tick=False)
def test_estimate_fees_for_pay_in_advance_charges(api, metered):
    response = api.post(
        "/api/v1/events/estimate_fees",
        {
            "event": {
                "transaction_id": "x",
                "external_subscription_id": "s",
                "code": "calls",
                "timestamp": None,
                "properties": None,
                "precise_total_amount_cents": None,
            }
        },
    )
    assert response.status_code == 200
    fees = response.json()["fees"]
    assert [(f["amount_cents"], f["units"], f["pay_in_advance"]) for f in fees] == [(10, "1", True)]
    unknown = api.post(
        "/api/v1/events/estimate_fees",
        {"event": {"transaction_id": "x", "external_subscription_id": "nope", "code": "calls"}},
    )
    assert unknown.status_code == 404


def test_events_admin_lists_and_filters_unmatched(admin_client, metered):
    events_ingest(
        raws=[{"transaction_id": "z", "external_subscription_id": "ghost", "code": "calls"}]
    )
    url = reverse("admin:usage_event_changelist")
    page = admin_client.get(url, {"error_code": "unknown_subscription"}).content.decode()
    assert "ghost" in page
    assert admin_client.get(url, {"q": "z"}).status_code == 200
