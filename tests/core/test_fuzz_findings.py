"""Server errors found by `make fuzz` (scripts/fuzz.py), each now a 422 in Lago's shape."""

import pytest
import time_machine

from plans.models import BillableMetric, Coupon

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("currency", [9e24, -1, ["EUR"], {"code": "EUR"}, True])
def test_a_unit_cost_currency_that_is_not_text_is_a_422_and_no_metric_is_created(api, currency):
    body = {
        "billable_metric": {
            "name": "Tokens",
            "code": "tokens",
            "aggregation_type": "sum_agg",
            "field_name": "tokens",
            "unit_cost": "0.01",
            "unit_cost_currency": currency,
        }
    }
    response = api.post("/api/v1/billable_metrics", body, format="json")
    assert response.status_code == 422
    assert response.json() == {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": {"unit_cost_currency": ["value_is_invalid"]},
    }
    assert not BillableMetric.objects.filter(code="tokens").exists()


def test_a_lowercase_unit_cost_currency_is_still_accepted(api):
    body = {
        "billable_metric": {
            "name": "Tokens",
            "code": "tokens",
            "aggregation_type": "sum_agg",
            "field_name": "tokens",
            "unit_cost": "0.01",
            "unit_cost_currency": "eur",
        }
    }
    response = api.post("/api/v1/billable_metrics", body, format="json")
    assert response.status_code == 200
    assert response.json()["billable_metric"]["unit_cost_currency"] == "EUR"


@time_machine.travel("2026-01-10T12:00:00Z", tick=False)
@pytest.mark.parametrize("moment", ["2026-13-45T99:99:99Z", "2026-01-01T10:75:00Z"])
def test_an_impossible_coupon_expiration_at_is_a_422_and_no_coupon_is_created(api, moment):
    body = {
        "coupon": {
            "name": "Ten",
            "code": "ten",
            "coupon_type": "fixed_amount",
            "amount_cents": 1000,
            "amount_currency": "EUR",
            "frequency": "once",
            "expiration": "time_limit",
            "expiration_at": moment,
        }
    }
    response = api.post("/api/v1/coupons", body, format="json")
    assert response.status_code == 422
    assert response.json()["error_details"] == {"expiration_at": ["invalid_format"]}
    assert not Coupon.objects.filter(code="ten").exists()
