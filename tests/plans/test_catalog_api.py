"""Catalog rules through the API: metrics and plans, their validation codes and envelopes."""

import pytest

from plans.models import Charge
from tests.factories import make_metric, make_plan, standard_charge

pytestmark = pytest.mark.django_db


def _errors(response) -> dict:
    assert response.status_code == 422, response.json()
    return response.json()["error_details"]


def test_missing_root_key_is_400(api):
    response = api.post("/api/v1/billable_metrics", {"name": "x"})
    assert response.status_code == 400
    assert response.json()["error"] == (
        "BadRequest: param is missing or the value is empty: billable_metric"
    )


@pytest.mark.parametrize(
    ("payload", "details"),
    [
        ({"code": "a b", "aggregation_type": "count_agg"}, {"code": ["invalid_format"]}),
        (
            {"code": "c", "aggregation_type": "count_agg", "recurring": True},
            {"recurring": ["not_compatible_with_aggregation_type"]},
        ),
        ({"code": "c", "aggregation_type": "median"}, {"aggregation_type": ["value_is_invalid"]}),
        (
            {"code": "c", "aggregation_type": "sum_agg", "field_name": "v", "filters": [{}]},
            {"filters": ["invalid_format"]},
        ),
        (
            {"code": "c", "aggregation_type": "sum_agg", "field_name": "v", "unit_cost": "-1"},
            {"unit_cost": ["value_is_invalid"]},
        ),
    ],
)
def test_metric_validation_codes(api, payload, details):
    response = api.post("/api/v1/billable_metrics", {"billable_metric": {"name": "M", **payload}})
    assert _errors(response) == details


def test_count_metric_drops_field_name_and_weighted_sum_is_per_second(api):
    count = api.post(
        "/api/v1/billable_metrics",
        {
            "billable_metric": {
                "name": "C",
                "code": "c",
                "aggregation_type": "count_agg",
                "field_name": "ignored",
            }
        },
    ).json()["billable_metric"]
    assert count["field_name"] is None
    weighted = api.post(
        "/api/v1/billable_metrics",
        {
            "billable_metric": {
                "name": "W",
                "code": "w",
                "aggregation_type": "weighted_sum_agg",
                "field_name": "gb",
                "recurring": True,
            }
        },
    ).json()["billable_metric"]
    assert weighted["weighted_interval"] == "seconds"


def test_metric_unit_cost_round_trips(api):
    body = api.post(
        "/api/v1/billable_metrics",
        {
            "billable_metric": {
                "name": "T",
                "code": "t",
                "aggregation_type": "sum_agg",
                "field_name": "tokens",
                "unit_cost": "0.0000004",
                "unit_cost_currency": "usd",
            }
        },
    ).json()["billable_metric"]
    assert (body["unit_cost"], body["unit_cost_currency"]) == ("0.0000004", "USD")


def test_metric_aggregation_is_locked_once_charges_use_it(api):
    metric = make_metric("tokens")
    make_plan(charges=[standard_charge(metric)])
    response = api.put(
        "/api/v1/billable_metrics/tokens", {"billable_metric": {"aggregation_type": "max_agg"}}
    )
    assert _errors(response) == {"aggregation_type": ["cannot_change_when_used_by_charges"]}
    renamed = api.put("/api/v1/billable_metrics/tokens", {"billable_metric": {"name": "Tok"}})
    assert renamed.json()["billable_metric"]["name"] == "Tok"


def test_deleting_a_metric_removes_its_charges_and_frees_the_code(api):
    metric = make_metric("tokens")
    plan = make_plan(charges=[standard_charge(metric)])
    assert api.delete("/api/v1/billable_metrics/tokens").status_code == 200
    assert not Charge.objects.live().filter(plan=plan).exists()
    assert api.get("/api/v1/plans/basic").json()["plan"]["charges"] == []
    make_metric("tokens")  # the code is free again


@pytest.mark.parametrize(
    ("charge", "details"),
    [
        (
            {"pay_in_advance": True, "_aggregation": "max_agg"},
            {"charges.0.pay_in_advance": ["invalid_aggregation_type_or_charge_model"]},
        ),
        ({"prorated": True}, {"charges.0.prorated": ["invalid_billable_metric_or_charge_model"]}),
        (
            {"charge_model": "dynamic", "properties": {}, "_aggregation": "count_agg"},
            {"charges.0.charge_model": ["not_compatible_with_aggregation_type"]},
        ),
        (
            {"min_amount_cents": 100, "pay_in_advance": True},
            {"charges.0.min_amount_cents": ["not_compatible_with_pay_in_advance"]},
        ),
        ({"invoiceable": False}, {"charges.0.invoiceable": ["only_with_pay_in_advance"]}),
        (
            {"filters": [{"values": {"model": ["claude"]}, "properties": {"amount": "1"}}]},
            {"charges.0.filters.0.values": ["invalid_filter_values"]},
        ),
    ],
)
def test_charge_rules(api, charge, details):
    aggregation = charge.pop("_aggregation", "sum_agg")
    metric = make_metric("m", aggregation, filters=[{"key": "model", "values": ["gpt"]}])
    payload = {**standard_charge(metric), **charge}
    response = api.post(
        "/api/v1/plans",
        {
            "plan": {
                "name": "P",
                "code": "p",
                "interval": "monthly",
                "amount_cents": 0,
                "amount_currency": "USD",
                "charges": [payload],
            }
        },
    )
    assert _errors(response) == details


def test_plan_update_replaces_charges_keeping_matched_ids(api):
    tokens, calls = make_metric("tokens"), make_metric("calls", "count_agg")
    plan = make_plan(charges=[standard_charge(tokens), standard_charge(calls, "0.1")])
    kept = plan.charges.get(code="tokens")
    response = api.put(
        "/api/v1/plans/basic",
        {"plan": {"charges": [{**standard_charge(tokens, "0.02"), "id": str(kept.lago_id)}]}},
    )
    charges = response.json()["plan"]["charges"]
    assert [(c["lago_id"], c["properties"]["amount"]) for c in charges] == [
        (str(kept.lago_id), "0.02")
    ]
    assert Charge.objects.get(code="calls").deleted_at is not None


def test_only_one_recurring_threshold(api):
    response = api.post(
        "/api/v1/plans",
        {
            "plan": {
                "name": "P",
                "code": "p",
                "interval": "monthly",
                "amount_cents": 0,
                "amount_currency": "USD",
                "usage_thresholds": [
                    {"amount_cents": 100, "recurring": True},
                    {"amount_cents": 200, "recurring": True},
                ],
            }
        },
    )
    assert _errors(response) == {"usage_thresholds": ["multiple_recurring_thresholds"]}


def test_interval_is_locked_once_subscribed(api):
    make_plan("basic")
    api.post(
        "/api/v1/subscriptions",
        {"subscription": {"external_customer_id": "c", "plan_code": "basic", "external_id": "s"}},
    )
    response = api.put("/api/v1/plans/basic", {"plan": {"interval": "yearly"}})
    assert _errors(response) == {"interval": ["cannot_change_when_plan_has_subscriptions"]}
    assert api.put("/api/v1/plans/basic", {"plan": {"amount_cents": 2000}}).status_code == 200


def test_plan_metadata_endpoints(api):
    make_plan("basic")
    assert api.post("/api/v1/plans/basic/metadata", {"metadata": {"a": "1"}}).json() == {
        "metadata": {"a": "1"}
    }
    merged = api.patch("/api/v1/plans/basic/metadata", {"metadata": {"b": None}})
    assert merged.json() == {"metadata": {"a": "1", "b": None}}
    assert api.delete("/api/v1/plans/basic/metadata").json() == {"metadata": {}}


def test_list_pagination_meta(api):
    for code in ("a", "b", "c"):
        make_plan(code)
    page = api.get("/api/v1/plans?per_page=2&page=2").json()
    assert [p["code"] for p in page["plans"]] == ["a"]
    assert page["meta"] == {
        "current_page": 2,
        "next_page": None,
        "prev_page": 1,
        "total_pages": 2,
        "total_count": 3,
    }
    assert api.get("/api/v1/plans?page=9").json()["plans"] == []
    empty = api.get("/api/v1/customers").json()
    assert empty == {
        "customers": [],
        "meta": {
            "current_page": 0,
            "next_page": None,
            "prev_page": None,
            "total_pages": 0,
            "total_count": 0,
        },
    }
