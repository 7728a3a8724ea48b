"""lago-python-client: events (single, batch, duplicates) and current_usage equal to hand-computed
amounts for a hybrid plan (base fee + included tokens + overage) and for per-model filters."""

from datetime import UTC, datetime

import pytest
import time_machine
from lago_python_client.models import (
    BatchEvent,
    BillableMetric,
    BillableMetricFilter,
    Charge,
    ChargeFilter,
    Customer,
    Event,
    Plan,
    Subscription,
)

pytestmark = pytest.mark.live
T0 = datetime(2024, 3, 5, 12, tzinfo=UTC)


def items(value) -> list:
    return list(getattr(value, "__root__", value))


def _included(price: str, included: int) -> dict:
    return {
        "graduated_ranges": [
            {"from_value": 0, "to_value": included, "per_unit_amount": "0", "flat_amount": "0"},
            {
                "from_value": included + 1,
                "to_value": None,
                "per_unit_amount": price,
                "flat_amount": "0",
            },
        ]
    }


@pytest.fixture
def hybrid(lago):
    metric = lago.billable_metrics.create(
        BillableMetric(
            name="Tokens",
            code="tokens",
            aggregation_type="sum_agg",
            field_name="tokens",
            filters=[BillableMetricFilter(key="model", values=["gpt-4o", "llama"])],
        )
    )
    lago.plans.create(
        Plan(
            name="Pro",
            code="pro",
            interval="monthly",
            amount_cents=10000,
            amount_currency="USD",
            charges=[
                Charge(
                    billable_metric_id=metric.lago_id,
                    charge_model="graduated",
                    properties=_included("0.00002", 1_000_000),
                    filters=[
                        ChargeFilter(
                            invoice_display_name="GPT-4o",
                            values={"model": ["gpt-4o"]},
                            properties={
                                "graduated_ranges": [
                                    {
                                        "from_value": 0,
                                        "to_value": None,
                                        "per_unit_amount": "0.00003",
                                        "flat_amount": "0",
                                    }
                                ]
                            },
                        )
                    ],
                )
            ],
        )
    )
    lago.customers.create(Customer(external_id="acme", currency="USD"))
    lago.subscriptions.create(
        Subscription(
            external_customer_id="acme",
            plan_code="pro",
            external_id="acme_pro",
            subscription_at="2024-03-01T00:00:00Z",
        )
    )
    return lago


def _event(tx, tokens, model=None, when=T0):
    properties = {"tokens": tokens, **({"model": model} if model else {})}
    return Event(
        transaction_id=tx,
        external_subscription_id="acme_pro",
        code="tokens",
        timestamp=int(when.timestamp()),
        properties=properties,
    )


@time_machine.travel(T0)
def test_events_and_current_usage_of_a_hybrid_plan(hybrid):
    lago = hybrid
    created = lago.events.create(_event("tx-1", 900_000))
    assert created.transaction_id == "tx-1" and created.code == "tokens"
    lago.events.create(_event("tx-1", 900_000))  # a retry: counted once
    lago.events.batch_create(
        BatchEvent(
            events=[
                _event("tx-2", 400_000),
                _event("tx-3", 200_000),
                _event("tx-2", 400_000),
                _event("tx-4", 50_000, model="gpt-4o"),
                _event("tx-5", 10_000, model="llama"),
            ]
        )
    )
    assert lago.events.find("tx-3").properties == {"tokens": 200_000}
    usage = lago.customers.current_usage("acme", "acme_pro")
    # Default price: 900k + 400k + 200k + 10k (llama has no filter) = 1,510,000 tokens,
    # 1,000,000 included, 510,000 x $0.00002 = $10.20. GPT-4o: 50,000 x $0.00003 = $1.50.
    assert (usage.currency, usage.amount_cents, usage.total_amount_cents) == ("USD", 1170, 1170)
    assert (usage.from_datetime, usage.to_datetime) == (
        "2024-03-01T00:00:00Z",
        "2024-03-31T23:59:59Z",
    )
    assert usage.issuing_date == "2024-04-01"
    charge = items(usage.charges_usage)[0]
    assert (charge.units, charge.events_count, charge.amount_cents) == ("1560000.0", 5, 1170)
    by_name = {f.invoice_display_name: f for f in items(charge.filters)}
    assert (by_name["GPT-4o"].units, by_name["GPT-4o"].amount_cents) == ("50000.0", 150)
    assert (by_name[None].units, by_name[None].amount_cents) == ("1510000.0", 1020)


@time_machine.travel(T0)
def test_current_usage_of_an_unknown_subscription_is_404(hybrid):
    from lago_python_client.exceptions import LagoApiError

    with pytest.raises(LagoApiError) as error:
        hybrid.customers.current_usage("acme", "nope")
    assert error.value.status_code == 404
    assert error.value.response["code"] == "subscription_not_found"


@time_machine.travel(T0)
def test_invalid_event_through_the_client(hybrid):
    from lago_python_client.exceptions import LagoApiError

    with pytest.raises(LagoApiError) as error:
        hybrid.events.create(
            Event(
                transaction_id="bad",
                external_subscription_id="acme_pro",
                code="tokens",
                timestamp="soon",
            )
        )
    assert error.value.status_code == 422
    assert error.value.response["error_details"] == {"timestamp": ["invalid_format"]}


@time_machine.travel(T0)
def test_projected_usage_with_a_charge_filter_passes_the_clients_validation(hybrid):
    """The client's ProjectedChargeFilterUsage wants projected_units, projected_amount_cents
    and an object for `values` on every filter row (the default-price row included)."""
    lago = hybrid
    lago.events.batch_create(
        BatchEvent(events=[_event("tx-1", 1_200_000), _event("tx-2", 50_000, model="gpt-4o")])
    )
    usage = lago.customers.projected_usage("acme", "acme_pro")
    charge = items(usage.charges_usage)[0]
    rows = {tuple(f.values.get("model", [])): f for f in items(charge.filters)}
    assert set(rows) == {("gpt-4o",), ()}  # the default-price row: values {}
    assert (rows[("gpt-4o",)].units, rows[("gpt-4o",)].amount_cents) == ("50000.0", 150)
    assert (rows[()].units, rows[()].amount_cents) == ("1200000.0", 400)  # 200k over 1M
    # Each row is projected to the period's end, and the rows add up to the charge.
    assert all(int(float(f.projected_units)) > int(float(f.units)) for f in rows.values())
    assert sum(f.projected_amount_cents for f in rows.values()) == charge.projected_amount_cents
    assert charge.projected_amount_cents == usage.projected_amount_cents > usage.amount_cents
