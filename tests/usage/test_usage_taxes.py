"""current_usage carries the taxes its invoice will charge (per fee line, rounded half-up by the
money helper, summed), and projected_units reads as Lago prints it (2 decimals, trimmed)."""

from datetime import UTC, datetime

import pytest
import time_machine

from customers.services import customer_upsert, subscription_create
from invoices.services import subscription_bill_due
from tests.factories import make_metric, make_plan, standard_charge
from usage.services import events_ingest

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def taxed(api):
    """April 2024: 125 calls at $0.025 (312.5 cents, a fee of 313) and 13 lookups at $0.01 (13
    cents), an organization-wide tax of 4%."""
    assert api.post(
        "/api/v1/taxes",
        {"tax": {"code": "t4", "name": "Tax 4%", "rate": 4.0, "applied_to_organization": True}},
        format="json",
    ).status_code in (200, 201)
    calls, lookups = make_metric("calls", "count_agg"), make_metric("lookups", "count_agg")
    make_plan("payg", 0, charges=[standard_charge(calls, "0.025"), standard_charge(lookups)])
    customer_upsert(data={"external_id": "c", "currency": "USD"})
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "c", "plan_code": "payg", "external_id": "s"}
        )
    raws = [
        {"transaction_id": f"{code}-{i}", "external_subscription_id": "s", "code": code}
        for code, count in (("calls", 125), ("lookups", 13))
        for i in range(count)
    ]
    with time_machine.travel(at(2024, 4, 5), tick=False):
        events_ingest(raws=raws)
    return subscription


def test_current_usage_is_taxed_as_its_invoice(api, taxed):
    with time_machine.travel(at(2024, 4, 10), tick=False):
        body = api.get("/api/v1/customers/c/current_usage?external_subscription_id=s").json()
    usage = body["customer_usage"]
    assert [c["amount_cents"] for c in usage["charges_usage"]] == [313, 13]  # 312.5 half-up
    # Per fee line and rate, half-up: 313 x 4% = 12.52 -> 13; 13 x 4% = 0.52 -> 1. Sum: 14
    # (not 326 x 4% = 13.04 -> 13 rounded once, nor 312.5 x 4% = 12.5 rounded half-even to 12).
    assert (usage["amount_cents"], usage["taxes_amount_cents"], usage["total_amount_cents"]) == (
        326,
        14,
        340,
    )
    with time_machine.travel(at(2024, 5, 1, 0, 5), tick=False):
        [invoice] = subscription_bill_due(subscription_id=taxed.pk)
    invoice.refresh_from_db()
    assert (invoice.fees_amount_cents, invoice.taxes_amount_cents) == (326, 14)
    with time_machine.travel(at(2024, 5, 2), tick=False):
        [past] = api.get("/api/v1/customers/c/past_usage?external_subscription_id=s").json()[
            "usage_periods"
        ]
    assert (past["amount_cents"], past["taxes_amount_cents"], past["total_amount_cents"]) == (
        326,
        14,
        340,
    )


def test_a_charge_tax_code_wins_over_the_organizations(api, taxed):
    api.post("/api/v1/taxes", {"tax": {"code": "t10", "name": "Ten", "rate": 10.0}}, format="json")
    charge = taxed.plan.charges.get(billable_metric__code="lookups")
    charge.tax_codes = ["t10"]
    charge.save(update_fields=["tax_codes"])
    with time_machine.travel(at(2024, 4, 10), tick=False):
        usage = api.get("/api/v1/customers/c/current_usage?external_subscription_id=s").json()
    assert usage["customer_usage"]["taxes_amount_cents"] == 13 + 1  # 313 x 4%, 13 x 10% = 1.3
    with time_machine.travel(at(2024, 5, 1, 0, 5), tick=False):
        [invoice] = subscription_bill_due(subscription_id=taxed.pk)
    invoice.refresh_from_db()
    assert invoice.taxes_amount_cents == 14


def test_projected_units_have_two_decimals_at_most(api, taxed):
    # April 10, 00:00: 9 of 30 days gone, so x 10/3: 416.666... and 43.333...
    with time_machine.travel(at(2024, 4, 10), tick=False):
        body = api.get("/api/v1/customers/c/projected_usage?external_subscription_id=s").json()
    projected = body["customer_projected_usage"]
    assert [c["projected_units"] for c in projected["charges_usage"]] == ["416.67", "43.33"]
    assert projected["taxes_amount_cents"] == 14
