"""The pricing simulator re-rates past usage under another plan (existing or a draft) and
compares with what was billed; nothing is saved."""

import pytest
import time_machine

from backoffice.simulator import pricing_simulate
from core.models import AuditEntry
from customers.models import Customer
from customers.services import customer_upsert, subscription_create
from invoices.services import subscription_bill_due
from plans.models import Plan
from tests.factories import make_metric, make_plan, standard_charge
from tests.payments.helpers import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(api):
    """April and May billed on "basic" ($10 + $0.01 per call); 300 calls in April, 100 in May."""
    calls = make_metric("calls", "count_agg")
    make_plan("basic", 1000, charges=[standard_charge(calls, "0.01")])
    make_plan("pricier", 2000, charges=[standard_charge(calls, "0.02")])
    with time_machine.travel(at(2024, 4, 1), tick=False):
        customer_upsert(data={"external_id": "acme", "currency": "USD"})
        subscription = subscription_create(
            data={"external_customer_id": "acme", "plan_code": "basic", "external_id": "s"}
        )
    for month, count in ((4, 300), (5, 100)):
        with time_machine.travel(at(2024, month, 20), tick=False):
            events = [
                {"transaction_id": f"{month}-{i}", "external_subscription_id": "s", "code": "calls"}
                for i in range(count)
            ]
            api.post("/api/v1/events/batch", {"events": events}, format="json")
    subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 6, 1, 0, 5))
    return calls


def test_an_existing_plan_re_rates_the_last_periods(history):
    with time_machine.travel(at(2024, 6, 10), tick=False):
        [result] = pricing_simulate(
            customers=Customer.objects.all(), periods=2, plan=Plan.objects.get(code="pricier")
        )
    assert [(p.from_date, p.billed_cents, p.simulated_cents) for p in result.periods] == [
        ("2024-05-01", 1000 + 100, 2000 + 200),
        ("2024-04-01", 1000 + 300, 2000 + 600),
    ]
    assert result.difference_cents == 4800 - 2400


def test_a_draft_plan_is_priced_and_nothing_is_kept(history):
    plans, entries = Plan.objects.count(), AuditEntry.objects.count()
    draft = {
        "name": "Draft",
        "code": "draft",
        "interval": "monthly",
        "amount_cents": 0,
        "amount_currency": "USD",
        "charges": [
            {
                "billable_metric_id": str(history.lago_id),
                "charge_model": "package",
                "properties": {"amount": "1", "package_size": 100, "free_units": 0},
            }
        ],
    }
    with time_machine.travel(at(2024, 6, 10), tick=False):
        [result] = pricing_simulate(customers=Customer.objects.all(), periods=1, draft=draft)
    assert result.periods[0].simulated_cents == 100  # one package of 100 calls in May
    assert (Plan.objects.count(), AuditEntry.objects.count()) == (plans, entries)


def test_the_simulator_page(admin_client, history):
    with time_machine.travel(at(2024, 6, 10), tick=False):
        page = admin_client.post(
            "/admin/pricing-simulator/",
            {"plan": Plan.objects.get(code="pricier").pk, "periods": 2},
        ).content.decode()
    assert 'data-testid="total-USD"' in page and "difference <strong>$24.00</strong>" in page
    assert "<svg" in page
    bad = admin_client.post("/admin/pricing-simulator/", {"draft": "{nope", "periods": 1})
    assert "Not JSON" in bad.content.decode()
