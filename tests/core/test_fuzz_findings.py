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


def _error_details(response) -> dict:
    assert response.status_code == 422, response.content
    body = response.json()
    assert (body["status"], body["code"]) == (422, "validation_errors")
    return body["error_details"]


def _customer(api, **fields):
    body = {"customer": {"external_id": "acme", **fields}}
    return api.post("/api/v1/customers", body, format="json")


@pytest.mark.parametrize("config", ["stripe", ["stripe"], 7])
def test_a_billing_configuration_that_is_not_an_object_is_a_422(api, config):
    from customers.models import Customer

    response = _customer(api, billing_configuration=config)
    assert _error_details(response) == {"billing_configuration": ["invalid_format"]}
    assert not Customer.objects.filter(external_id="acme").exists()


@pytest.mark.parametrize("email", [5, 9e24, ["a@example.com"], {"a": 1}, True])
def test_an_email_that_is_not_text_is_a_422(api, email):
    assert _error_details(_customer(api, email=email)) == {"email": ["invalid_format"]}


@pytest.mark.parametrize("zone", [["Europe/Paris"], {"zone": "Europe/Paris"}, 1])
def test_a_timezone_that_is_not_text_is_a_422(api, zone):
    assert _error_details(_customer(api, timezone=zone)) == {"timezone": ["value_is_invalid"]}


def _plan(api, charges):
    body = {
        "plan": {
            "name": "Pro",
            "code": "pro",
            "interval": "monthly",
            "amount_cents": 1000,
            "amount_currency": "EUR",
            "charges": charges,
        }
    }
    return api.post("/api/v1/plans", body, format="json")


@pytest.mark.parametrize(
    ("charges", "details"),
    [
        ("standard", {"charges": ["invalid_format"]}),
        ({"charge_model": "standard"}, {"charges": ["invalid_format"]}),
        (["standard"], {"charges.0": ["invalid_format"]}),
        ([["standard"]], {"charges.0": ["invalid_format"]}),
    ],
)
def test_charges_that_are_not_a_list_of_objects_are_a_422(api, charges, details):
    from plans.models import Plan

    assert _error_details(_plan(api, charges)) == details
    assert not Plan.objects.filter(code="pro").exists()


@pytest.mark.parametrize("code", [["a"], {"a": 1}])
def test_a_charge_code_that_is_not_text_on_a_plan_update_is_a_422_not_a_crash(api, code):
    from tests.factories import make_metric, standard_charge

    metric = make_metric()
    assert _plan(api, [standard_charge(metric)]).status_code == 200
    charge = {**standard_charge(metric), "code": code}
    body = {"plan": {"name": "Pro", "code": "pro", "charges": [charge]}}
    response = api.put("/api/v1/plans/pro", body, format="json")
    assert response.status_code == 422
    assert "charges.0.code" in response.json()["error_details"]


def _wallet(api, **fields):
    _customer(api, currency="EUR")
    body = {"wallet": {"external_customer_id": "acme", "currency": "EUR", "rate_amount": "1"}}
    body["wallet"] |= fields
    return api.post("/api/v1/wallets", body, format="json")


@pytest.mark.parametrize(
    ("applies_to", "details"),
    [
        ({"fee_types": [["charge"]]}, {"applies_to.fee_types": ["value_is_invalid"]}),
        ({"fee_types": [{"a": 1}]}, {"applies_to.fee_types": ["value_is_invalid"]}),
        ({"fee_types": "charge"}, {"applies_to.fee_types": ["value_is_invalid"]}),
        (
            {"billable_metric_codes": [["tokens"]]},
            {"applies_to.billable_metric_codes": ["value_is_invalid"]},
        ),
        (
            {"billable_metric_codes": [{"a": 1}]},
            {"applies_to.billable_metric_codes": ["value_is_invalid"]},
        ),
    ],
)
def test_wallet_applies_to_lists_holding_lists_or_objects_are_a_422(api, applies_to, details):
    from customers.models import Wallet

    assert _error_details(_wallet(api, applies_to=applies_to)) == details
    assert not Wallet.objects.exists()


@time_machine.travel("2026-01-10T12:00:00Z", tick=False)
@pytest.mark.parametrize("moment", ["2026-13-45T99:99:99Z", "2026-03-01T10:75:00Z"])
def test_impossible_wallet_dates_are_a_422(api, moment):
    assert _error_details(_wallet(api, expiration_at=moment)) == {
        "expiration_at": ["invalid_format"]
    }
    rule = {"trigger": "interval", "interval": "monthly", "started_at": moment}
    assert _error_details(_wallet(api, recurring_transaction_rules=[rule])) == {
        "recurring_transaction_rules.0.started_at": ["invalid_format"]
    }


@pytest.mark.parametrize("credits", ["1e1000000", "1e-20000", "-1e1000000"])
def test_wallet_credits_with_an_exponent_beyond_the_column_are_a_422(api, credits):
    from customers.models import Wallet

    details = _error_details(_wallet(api, paid_credits=credits, granted_credits=credits))
    assert set(details) == {"paid_credits", "granted_credits"}
    assert not Wallet.objects.exists()


@pytest.mark.parametrize("field", ["from_datetime", "to_datetime"])
@pytest.mark.parametrize("moment", ["2026-13-45T99:99:99Z", "2026-03-01T10:75:00Z"])
def test_impossible_one_off_fee_dates_are_a_422(api, field, moment):
    from invoices.models import Invoice

    _customer(api, currency="EUR")
    fee = {"add_on_code": "setup", field: moment}
    body = {"invoice": {"external_customer_id": "acme", "currency": "EUR", "fees": [fee]}}
    response = api.post("/api/v1/invoices", body, format="json")
    assert _error_details(response)[f"fees.0.{field}"] == ["invalid_format"]
    assert not Invoice.objects.exists()


@pytest.mark.parametrize("charges", [None, 5, True])
def test_a_plan_with_prices_and_charges_of_the_wrong_type_is_a_422(api, charges):
    from plans.models import Plan

    body = {
        "plan": {
            "name": "Pro",
            "code": "pro",
            "interval": "monthly",
            "amount_cents": 1000,
            "amount_currency": "EUR",
            "charges": charges,
            "prices": [{"currency": "USD", "amount_cents": 1100, "charges": []}],
        }
    }
    response = api.post("/api/v1/plans", body, format="json")
    assert _error_details(response) == {"charges": ["invalid_format"]}
    assert not Plan.objects.filter(code="pro").exists()


@pytest.mark.parametrize(
    ("overrides", "details"),
    [
        ("cheaper", {"plan_overrides": ["invalid_format"]}),
        (["amount_cents", 1], {"plan_overrides": ["invalid_format"]}),
        ({"charges": {"id": "x"}}, {"plan_overrides.charges": ["invalid_format"]}),
        ({"charges": "x"}, {"plan_overrides.charges": ["invalid_format"]}),
    ],
)
def test_plan_overrides_of_the_wrong_type_are_a_422_and_no_subscription_is_created(
    api, overrides, details
):
    from customers.models import Subscription
    from plans.models import Plan

    plan = {"name": "Pro", "code": "pro", "interval": "monthly"}
    plan |= {"amount_cents": 1000, "amount_currency": "EUR"}
    assert api.post("/api/v1/plans", {"plan": plan}, format="json").status_code == 200
    _customer(api, currency="EUR")
    body = {"subscription": {"external_customer_id": "acme", "plan_code": "pro"}}
    body["subscription"] |= {"external_id": "sub", "plan_overrides": overrides}
    response = api.post("/api/v1/subscriptions", body, format="json")
    assert _error_details(response) == details
    assert not Subscription.objects.exists()
    assert Plan.objects.count() == 1


@pytest.mark.parametrize(
    "moment",
    ["0321-05-30T15:44:59.9+17:47", "2026-01-01T00:00:00+23:59", "0001-01-01T00:00:00+14:00"],
)
def test_an_offset_postgresql_does_not_take_in_an_events_filter_is_read_as_its_instant(api, moment):
    """Found by `make fuzz`: PostgreSQL refuses offsets beyond +-15:59 (500); Python takes up to
    +-23:59. The filter is the same instant in UTC, or invalid_date when that leaves year 1."""
    response = api.get("/api/v1/events", {"timestamp_to": moment})
    if moment.startswith("0001"):
        assert response.status_code == 422
        assert response.json()["error_details"] == {"timestamp_to": ["invalid_date"]}
    else:
        assert response.status_code == 200, response.json()
        assert response.json()["events"] == []
