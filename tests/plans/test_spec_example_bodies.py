"""Request bodies taken from Lago's OpenAPI examples (PlanCreateInput) are accepted."""

import pytest

from plans.addons import add_on_create
from tests.factories import make_metric

pytestmark = pytest.mark.django_db


def _plan(metric, **extra) -> dict:
    return {
        "plan": {
            "name": "Startup",
            "code": "startup",
            "interval": "monthly",
            "amount_cents": 10000,
            "amount_currency": "USD",
            "charges": [
                {
                    "billable_metric_id": str(metric.lago_id),
                    "charge_model": "standard",
                    "invoiceable": True,
                    "invoice_display_name": "Setup",
                    "pay_in_advance": True,
                    "prorated": False,
                    "min_amount_cents": 0,
                    "properties": {},
                }
            ],
            **extra,
        }
    }


def test_a_standard_charge_with_empty_properties_gets_lagos_defaults(api):
    """Lago's Charges::CreateService: `properties.presence || BuildDefaultPropertiesService`."""
    metric = make_metric("calls", "count_agg")
    response = api.post("/api/v1/plans", _plan(metric), format="json")
    assert response.status_code == 200, response.json()
    charge = response.json()["plan"]["charges"][0]
    assert charge["properties"] == {"amount": "0"}
    assert charge["regroup_paid_fees"] is None


def test_an_update_with_empty_properties_resets_them_to_the_defaults(api):
    metric = make_metric("calls", "count_agg")
    created = api.post("/api/v1/plans", _plan(metric), format="json").json()["plan"]
    charge = {**created["charges"][0], "billable_metric_id": str(metric.lago_id)}
    charge["properties"] = {"amount": "5"}
    api.put("/api/v1/plans/startup", {"plan": {"charges": [charge]}}, format="json")
    charge["properties"] = {}
    response = api.put("/api/v1/plans/startup", {"plan": {"charges": [charge]}}, format="json")
    assert response.json()["plan"]["charges"][0]["properties"] == {"amount": "0"}


def test_a_plan_with_the_examples_fixed_charges_is_not_refused(api):
    metric = make_metric("calls", "count_agg")
    add_on = add_on_create(
        data={"name": "Setup", "code": "setup", "amount_cents": 500, "amount_currency": "USD"}
    )
    fixed = {
        "add_on_id": str(add_on.lago_id),
        "code": "setup_fee",
        "invoice_display_name": "Setup Fee",
        "charge_model": "standard",
        "pay_in_advance": True,
        "prorated": False,
        "properties": {"amount": "500"},
        "units": 1,
    }
    response = api.post("/api/v1/plans", _plan(metric, fixed_charges=[fixed]), format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["plan"]["code"] == "startup"
