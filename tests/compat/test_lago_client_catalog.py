"""lago-python-client 1.55 against our server: metrics, plans (every charge model), customers
and subscriptions — create, find, list, update, destroy — and errors as LagoApiError."""

import pytest
import time_machine
from lago_python_client.exceptions import LagoApiError
from lago_python_client.models import (
    BillableMetric,
    BillableMetricFilter,
    Charge,
    ChargeFilter,
    Customer,
    CustomerBillingConfiguration,
    Metadata,
    MinimumCommitment,
    Plan,
    Subscription,
    UsageThreshold,
)
from lago_python_client.models.charge import ChargeOverrides
from lago_python_client.models.plan import PlanOverrides

pytestmark = pytest.mark.live


def items(value) -> list:
    """The client wraps response lists in pydantic __root__ models."""
    return list(getattr(value, "__root__", value))


GRADUATED = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 1000, "per_unit_amount": "0.01", "flat_amount": "0"},
        {"from_value": 1001, "to_value": None, "per_unit_amount": "0.005", "flat_amount": "1"},
    ]
}
EVERY_MODEL = {
    "standard": {"amount": "0.002", "pricing_group_keys": ["region"]},
    "graduated": GRADUATED,
    "volume": {"volume_ranges": GRADUATED["graduated_ranges"]},
    "package": {"amount": "5", "package_size": 1000, "free_units": 100},
    "percentage": {"rate": "1.5", "fixed_amount": "0.1", "free_units_per_events": 3},
    "graduated_percentage": {
        "graduated_percentage_ranges": [
            {"from_value": 0, "to_value": 10, "rate": "1", "flat_amount": "0"},
            {"from_value": 11, "to_value": None, "rate": "0.5", "flat_amount": "0"},
        ]
    },
    "dynamic": {},
}


def _metric(lago, code="tokens", **extra):
    return lago.billable_metrics.create(
        BillableMetric(
            name="LLM tokens",
            code=code,
            aggregation_type="sum_agg",
            field_name="tokens",
            filters=[BillableMetricFilter(key="model", values=["gpt-4", "gpt-4o"])],
            **extra,
        )
    )


def test_billable_metric_crud(lago):
    created = _metric(lago, code="llm.tokens", rounding_function="ceil", rounding_precision=0)
    assert created.code == "llm.tokens"
    assert items(created.filters)[0].values == ["gpt-4", "gpt-4o"]
    found = lago.billable_metrics.find("llm.tokens")  # a dot in the id must route
    assert found.lago_id == created.lago_id
    updated = lago.billable_metrics.update(BillableMetric(name="Tokens v2"), "llm.tokens")
    assert updated.name == "Tokens v2" and updated.aggregation_type == "sum_agg"
    listing = lago.billable_metrics.find_all({"per_page": 10})
    assert [m.code for m in listing["billable_metrics"]] == ["llm.tokens"]
    assert listing["meta"]["total_count"] == 1
    assert lago.billable_metrics.destroy("llm.tokens").code == "llm.tokens"
    with pytest.raises(LagoApiError) as error:
        lago.billable_metrics.find("llm.tokens")
    assert error.value.status_code == 404
    assert error.value.response["code"] == "billable_metric_not_found"


def test_invalid_metric_raises_lago_api_error_with_details(lago):
    with pytest.raises(LagoApiError) as error:
        lago.billable_metrics.create(BillableMetric(name="x", code="x", aggregation_type="sum_agg"))
    assert error.value.status_code == 422
    assert error.value.response["code"] == "validation_errors"
    assert error.value.response["error_details"] == {"field_name": ["value_is_mandatory"]}
    _metric(lago)
    with pytest.raises(LagoApiError) as duplicate:
        _metric(lago)
    assert duplicate.value.response["error_details"] == {"code": ["value_already_exist"]}


def test_plan_with_every_charge_model_round_trips(lago):
    metric = _metric(lago)
    charges = [
        Charge(billable_metric_id=metric.lago_id, charge_model=model, properties=properties)
        for model, properties in EVERY_MODEL.items()
    ]
    charges[1] = Charge(
        billable_metric_id=metric.lago_id,
        charge_model="graduated",
        properties=GRADUATED,
        filters=[
            ChargeFilter(
                invoice_display_name="GPT-4",
                values={"model": ["gpt-4"]},
                properties={
                    "graduated_ranges": [
                        GRADUATED["graduated_ranges"][0],
                        {**GRADUATED["graduated_ranges"][1], "per_unit_amount": "0.02"},
                    ]
                },
            )
        ],
    )
    plan = lago.plans.create(
        Plan(
            name="Pro",
            code="pro",
            interval="monthly",
            amount_cents=10000,
            amount_currency="USD",
            pay_in_advance=True,
            charges=charges,
            minimum_commitment=MinimumCommitment(amount_cents=5000),
            usage_thresholds=[UsageThreshold(amount_cents=20000, recurring=True)],
        )
    )
    assert sorted(c.charge_model for c in items(plan.charges)) == sorted(EVERY_MODEL)
    graduated = next(c for c in items(plan.charges) if c.charge_model == "graduated")
    assert items(graduated.filters)[0].values == {"model": ["gpt-4"]}
    assert plan.minimum_commitment.amount_cents == 5000
    assert items(plan.usage_thresholds)[0].recurring is True
    found = lago.plans.find("pro")
    assert {c.lago_id for c in items(found.charges)} == {c.lago_id for c in items(plan.charges)}
    updated = lago.plans.update(Plan(name="Pro 2024", amount_cents=12000), "pro")
    assert (updated.name, updated.amount_cents, len(items(updated.charges))) == (
        "Pro 2024",
        12000,
        7,
    )
    assert lago.plans.find_all()["meta"]["total_count"] == 1
    assert lago.plans.destroy("pro").code == "pro"
    with pytest.raises(LagoApiError) as error:
        lago.plans.find("pro")
    assert error.value.response["code"] == "plan_not_found"


def test_invalid_charge_properties_are_reported_per_field(lago):
    metric = _metric(lago)
    with pytest.raises(LagoApiError) as error:
        lago.plans.create(
            Plan(
                name="Bad",
                code="bad",
                interval="monthly",
                amount_cents=0,
                amount_currency="USD",
                charges=[
                    Charge(
                        billable_metric_id=metric.lago_id,
                        charge_model="package",
                        properties={"amount": "1", "package_size": 0},
                    ),
                    Charge(
                        billable_metric_id="00000000-0000-0000-0000-000000000000",
                        charge_model="standard",
                        properties={"amount": "1"},
                    ),
                ],
            )
        )
    assert error.value.status_code == 422
    assert error.value.response["error_details"] == {
        "charges.0.properties.package_size": ["invalid_package_size"],
        "charges.1.billable_metric_id": ["metric_not_found"],
    }


def test_customer_upsert_find_list_destroy(lago):
    customer = lago.customers.create(
        Customer(
            external_id="acme",
            name="Acme",
            email="billing@acme.test",
            country="FR",
            timezone="Europe/Paris",
            billing_configuration=CustomerBillingConfiguration(
                invoice_grace_period=3, document_locale="fr"
            ),
            metadata=[Metadata(key="segment", value="ai", display_in_invoice=True)],
        )
    )
    assert customer.applicable_timezone == "Europe/Paris"
    again = lago.customers.create(Customer(external_id="acme", name="Acme SAS"))
    assert again.lago_id == customer.lago_id and again.name == "Acme SAS"
    assert again.email == "billing@acme.test"  # an upsert does not clear absent fields
    assert again.billing_configuration.invoice_grace_period == 3
    assert items(again.metadata)[0].key == "segment"
    assert lago.customers.find("acme").name == "Acme SAS"
    assert lago.customers.find_all()["meta"]["total_count"] == 1
    assert lago.customers.destroy("acme").external_id == "acme"
    with pytest.raises(LagoApiError) as error:
        lago.customers.find("acme")
    assert error.value.response["code"] == "customer_not_found"


def test_invalid_customer_fields(lago):
    with pytest.raises(LagoApiError) as error:
        lago.customers.create(
            Customer(external_id="x", currency="ZZZ", timezone="Mars/Base", email="nope")
        )
    assert error.value.response["error_details"] == {
        "currency": ["value_is_invalid"],
        "timezone": ["value_is_invalid"],
        "email": ["invalid_format"],
    }


def _plan(lago, code, amount_cents, currency="USD"):
    return lago.plans.create(
        Plan(
            name=code,
            code=code,
            interval="monthly",
            amount_cents=amount_cents,
            amount_currency=currency,
        )
    )


def test_subscription_lifecycle(lago):
    _plan(lago, "basic", 1000)
    _plan(lago, "premium", 5000)
    lago.customers.create(Customer(external_id="cust"))
    created = lago.subscriptions.create(
        Subscription(external_customer_id="cust", plan_code="basic", external_id="sub")
    )
    assert created.status == "active" and created.plan_code == "basic"
    assert lago.customers.find("cust").currency == "USD"  # taken from the first plan
    retried = lago.subscriptions.create(
        Subscription(external_customer_id="cust", plan_code="basic", external_id="sub")
    )
    assert retried.lago_id == created.lago_id  # a retry creates nothing
    renamed = lago.subscriptions.update(Subscription(name="Main"), "sub")
    assert renamed.name == "Main"
    upgraded = lago.subscriptions.create(
        Subscription(external_customer_id="cust", plan_code="premium", external_id="sub")
    )
    assert upgraded.status == "active" and upgraded.previous_plan_code == "basic"
    listing = lago.subscriptions.find_all({"external_customer_id": "cust"})
    assert [s.plan_code for s in listing["subscriptions"]] == ["premium"]
    everything = lago.subscriptions.find_all(
        {"external_customer_id": "cust", "status[]": ["active", "terminated"]}
    )
    assert sorted(s.status for s in everything["subscriptions"]) == ["active", "terminated"]
    terminated = lago.subscriptions.destroy("sub")
    assert terminated.status == "terminated" and terminated.terminated_at


@time_machine.travel("2024-03-15 12:00Z")
def test_downgrade_waits_and_pending_can_be_canceled(lago):
    _plan(lago, "basic", 1000)
    _plan(lago, "premium", 5000)
    lago.subscriptions.create(
        Subscription(external_customer_id="cust", plan_code="premium", external_id="sub")
    )
    pending = lago.subscriptions.create(
        Subscription(external_customer_id="cust", plan_code="basic", external_id="sub")
    )
    assert pending.status == "pending"
    current = lago.subscriptions.find("sub")
    assert current.status == "active" and current.next_plan_code == "basic"
    assert (current.downgrade_plan_date, current.current_billing_period_ending_at) == (
        "2024-04-01",
        "2024-03-31T23:59:59Z",
    )
    canceled = lago.subscriptions.destroy("sub", {"status": "pending"})
    assert canceled.status == "canceled"
    assert lago.subscriptions.find("sub").next_plan_code is None


def test_currency_mismatch_and_unknown_plan(lago):
    _plan(lago, "euro", 1000, currency="EUR")
    lago.customers.create(Customer(external_id="us", currency="USD"))
    with pytest.raises(LagoApiError) as mismatch:
        lago.subscriptions.create(
            Subscription(external_customer_id="us", plan_code="euro", external_id="s1")
        )
    assert mismatch.value.status_code == 422
    assert mismatch.value.response["error_details"] == {"currency": ["currencies_does_not_match"]}
    with pytest.raises(LagoApiError) as missing:
        lago.subscriptions.create(
            Subscription(external_customer_id="us", plan_code="nope", external_id="s2")
        )
    assert missing.value.status_code == 404
    assert missing.value.response["code"] == "plan_not_found"


def test_plan_overrides_make_a_hidden_child_plan(lago):
    metric = _metric(lago)
    plan = lago.plans.create(
        Plan(
            name="Std",
            code="std",
            interval="monthly",
            amount_cents=1000,
            amount_currency="USD",
            charges=[
                Charge(
                    billable_metric_id=metric.lago_id,
                    charge_model="standard",
                    properties={"amount": "0.01"},
                )
            ],
        )
    )
    charge_id = items(plan.charges)[0].lago_id
    sub = lago.subscriptions.create(
        Subscription(
            external_customer_id="vip",
            plan_code="std",
            external_id="vip_sub",
            plan_overrides=PlanOverrides(
                amount_cents=500,
                charges=[ChargeOverrides(id=charge_id, properties={"amount": "0.005"})],
            ),
        )
    )
    assert sub.plan_code == "std" and int(sub.plan_amount_cents) == 500  # typed str
    assert [p.code for p in lago.plans.find_all()["plans"]] == ["std"]  # child stays hidden
    assert lago.plans.find("std").amount_cents == 1000
