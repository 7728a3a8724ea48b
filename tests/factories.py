"""Builders for tests: catalog, customers and subscriptions made through the real services."""

from plans.models import BillableMetric, Plan
from plans.services import billable_metric_create, plan_create


def make_metric(code: str = "tokens", aggregation_type: str = "sum_agg", **extra) -> BillableMetric:
    data = {"name": code.title(), "code": code, "aggregation_type": aggregation_type}
    if aggregation_type != "count_agg":
        data["field_name"] = extra.pop("field_name", "value")
    return billable_metric_create(data={**data, **extra})


def make_plan(
    code: str = "basic",
    amount_cents: int = 1000,
    interval: str = "monthly",
    currency: str = "USD",
    charges: list[dict] | None = None,
    **extra,
) -> Plan:
    data = {
        "name": code.title(),
        "code": code,
        "interval": interval,
        "amount_cents": amount_cents,
        "amount_currency": currency,
        "charges": charges or [],
        **extra,
    }
    return plan_create(data=data)


def standard_charge(metric: BillableMetric, amount: str = "0.01", **extra) -> dict:
    return {
        "billable_metric_id": str(metric.lago_id),
        "charge_model": "standard",
        "properties": {"amount": amount},
        **extra,
    }
