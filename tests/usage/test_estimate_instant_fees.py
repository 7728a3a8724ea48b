"""POST /events/estimate_instant_fees and /events/batch_estimate_instant_fees: Lago's instant
estimate (the event priced on its own on in-advance standard and percentage charges)."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps

from customers.services import subscription_create
from tests.factories import make_metric, make_plan
from tests.lago_spec import schema_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan():
    """storage: 0.50 per GB in advance (0.75 in eu); payments: 2.5% + 0.10, between 0.20 and 5;
    calls: count, in arrears (never estimated)."""
    storage = make_metric(
        "storage", field_name="gb", filters=[{"key": "region", "values": ["eu", "us"]}]
    )
    payments = make_metric("payments", field_name="amount")
    calls = make_metric("calls", "count_agg")
    make_plan(
        "pro",
        0,
        charges=[
            {
                "billable_metric_id": str(storage.lago_id),
                "charge_model": "standard",
                "pay_in_advance": True,
                "invoiceable": False,
                "properties": {"amount": "0.5"},
                "filters": [{"values": {"region": ["eu"]}, "properties": {"amount": "0.75"}}],
            },
            {
                "billable_metric_id": str(payments.lago_id),
                "charge_model": "percentage",
                "pay_in_advance": True,
                "properties": {
                    "rate": "2.5",
                    "fixed_amount": "0.1",
                    "per_transaction_min_amount": "0.2",
                    "per_transaction_max_amount": "5",
                },
            },
            {
                "billable_metric_id": str(calls.lago_id),
                "charge_model": "standard",
                "properties": {"amount": "1"},
            },
        ],
    )
    with time_machine.travel(datetime(2024, 3, 1, tzinfo=UTC), tick=False):
        subscription_create(
            data={"external_customer_id": "c", "plan_code": "pro", "external_id": "s"}
        )


def row_counts() -> dict:
    """Rows of every model but the API request log (which records this request by design)."""
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.label != "core.ApiLog"
    }


def estimate(api, **event):
    body = {"event": {"external_subscription_id": "s"} | event}
    return api.post("/api/v1/events/estimate_instant_fees", body, format="json")


@pytest.mark.parametrize(
    ("event", "cents", "units", "precise"),
    [
        ({"code": "storage", "properties": {"gb": "3"}}, 150, "3.0", "1.5"),
        ({"code": "storage", "properties": {"gb": 3, "region": "eu"}}, 225, "3.0", "2.25"),
        ({"code": "storage", "properties": {"gb": "0.333"}}, 17, "0.333", "0.1665"),
        ({"code": "storage", "properties": {}}, 0, "0.0", "0"),
        ({"code": "storage", "properties": {"gb": "-2"}}, 0, "-2.0", "0"),
        ({"code": "payments", "properties": {"amount": "100"}}, 260, "100.0", "2.6"),
        ({"code": "payments", "properties": {"amount": "1"}}, 20, "1.0", "0.2"),  # the minimum
        ({"code": "payments", "properties": {"amount": "1000"}}, 500, "1000.0", "5"),  # maximum
    ],
)
def test_the_event_is_priced_on_its_own(api, plan, event, cents, units, precise):
    before = row_counts()
    response = estimate(api, transaction_id="tx", **event)
    assert response.status_code == 200, response.content
    [fee] = json.loads(response.content, parse_float=Decimal)["fees"]
    assert (fee["amount_cents"], fee["total_amount_cents"], fee["units"]) == (cents, cents, units)
    assert fee["precise_amount"] == Decimal(precise)
    assert fee["event_transaction_id"] == "tx" and fee["lago_id"] is None
    assert (fee["pay_in_advance"], fee["payment_status"]) == (True, "pending")
    assert fee["item"]["code"] == event["code"]
    assert schema_errors("FeesEstimate", response.json()) == []
    assert row_counts() == before


def test_the_filter_and_invoiceable_are_reported(api, plan):
    [fee] = estimate(api, code="storage", properties={"gb": 2, "region": "eu"}).json()["fees"]
    assert fee["lago_charge_filter_id"] is not None and fee["invoiceable"] is False
    assert fee["item"]["filters"] == {"region": ["eu"]}
    assert fee["precise_unit_amount"] == 75.0  # cents per unit


@pytest.mark.parametrize(
    ("event", "status", "details"),
    [
        ({"code": "calls"}, 422, {"code": ["does_not_match_an_instant_charge"]}),
        ({"code": "nope"}, 422, {"code": ["does_not_match_an_instant_charge"]}),
        ({"code": "storage", "external_subscription_id": "x"}, 404, None),
        (
            {"code": "storage", "properties": {"gb": "lots"}},
            422,
            {"properties.gb": ["value_is_invalid"]},
        ),
    ],
)
def test_refusals(api, plan, event, status, details):
    response = estimate(api, **event)
    assert response.status_code == status
    if details:
        assert response.json()["error_details"] == details


def test_batch_prices_each_event(api, plan):
    before = row_counts()
    events = [
        {"external_subscription_id": "s", "code": "storage", "properties": {"gb": 1}},
        {"external_subscription_id": "s", "code": "payments", "properties": {"amount": 40}},
        {"external_subscription_id": "s", "code": "calls"},
    ]
    response = api.post(
        "/api/v1/events/batch_estimate_instant_fees", {"events": events}, format="json"
    )
    assert response.status_code == 200
    assert [(f["item"]["code"], f["amount_cents"]) for f in response.json()["fees"]] == [
        ("storage", 50),
        ("payments", 110),
    ]
    assert schema_errors("FeesEstimate", response.json()) == []
    assert row_counts() == before
    missing = api.post("/api/v1/events/batch_estimate_instant_fees", {}, format="json")
    assert missing.status_code == 400
    unknown = [{"external_subscription_id": "x", "code": "storage"}]
    body = {"events": unknown}
    assert (
        api.post("/api/v1/events/batch_estimate_instant_fees", body, format="json").status_code
        == 404
    )


@pytest.mark.parametrize("hostile", [["sub"], {"id": "sub"}, 7, None])
def test_a_batch_with_a_subscription_id_that_is_no_string_is_a_422(api, hostile):
    """Found by the fuzz: an array or object as the id crashed the grouping (500)."""
    body = {
        "events": [{"external_subscription_id": hostile, "code": "calls", "transaction_id": "t"}]
    }
    response = api.post("/api/v1/events/batch_estimate_instant_fees", body, format="json")
    assert response.status_code == 422
    assert response.json()["error_details"] == {"external_subscription_id": ["invalid_format"]}
