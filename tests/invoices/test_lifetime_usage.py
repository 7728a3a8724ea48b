"""GET/PUT /subscriptions/{external_id}/lifetime_usage: Lago's LifetimeUsage (historical +
invoiced + current in-arrears usage, threshold completion), and the historical amount counting
toward progressive billing thresholds as Lago's CheckService counts it."""

from datetime import UTC, datetime
from fractions import Fraction

import pytest
import time_machine

from customers.services import subscription_create
from invoices.models import AppliedUsageThreshold, Invoice
from invoices.services import subscription_bill_due
from invoices.services.lifetime import lifetime_usage_get, thresholds_progress
from invoices.services.progressive import subscription_check_thresholds
from tests.factories import make_metric, make_plan, standard_charge
from tests.openapi_check import spec_errors
from usage.services import events_ingest

pytestmark = pytest.mark.django_db
URL = "/api/v1/subscriptions/sub/lifetime_usage"


def at(*args):
    return datetime(*args, tzinfo=UTC)


def plan(thresholds):
    tokens = make_metric("tokens", field_name="tokens")
    make_plan("pro", 500, charges=[standard_charge(tokens, "0.01")], usage_thresholds=thresholds)
    with time_machine.travel(at(2024, 4, 1), tick=False):
        return subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )


@pytest.fixture
def subscription():
    """$10 and $20 thresholds, then every $10 after; tokens at $0.01."""
    return plan(
        [{"amount_cents": 1000}, {"amount_cents": 2000}, {"amount_cents": 1000, "recurring": True}]
    )


def use(moment, tokens, tx):
    raw = {
        "transaction_id": tx,
        "external_subscription_id": "sub",
        "code": "tokens",
        "timestamp": moment.isoformat(),
        "properties": {"tokens": tokens},
    }
    events_ingest(raws=[raw], now=moment)


def get(api, moment) -> dict:
    with time_machine.travel(moment, tick=False):
        response = api.get(URL)
    assert response.status_code == 200, response.content
    assert spec_errors("LifetimeUsage", response.json()) == []
    return response.json()["lifetime_usage"]


def put(api, moment, body):
    with time_machine.travel(moment, tick=False):
        return api.put(URL, body, format="json")


def test_current_usage_and_threshold_completion(api, subscription):
    use(at(2024, 4, 3), 900, "a")  # $9.00
    body = get(api, at(2024, 4, 3, 2))
    assert body == {
        "lago_id": body["lago_id"],
        "lago_subscription_id": str(subscription.lago_id),
        "external_subscription_id": "sub",
        "external_historical_usage_amount_cents": 0,
        "invoiced_usage_amount_cents": 0,
        "current_usage_amount_cents": 900,
        "from_datetime": "2024-04-01T00:00:00Z",
        "to_datetime": "2024-04-03T02:00:00Z",
        "usage_thresholds": [
            {"amount_cents": 1000, "completion_ratio": 0.9, "reached_at": None},
            {"amount_cents": 2000, "completion_ratio": 0.0, "reached_at": None},
            {"amount_cents": 3000, "completion_ratio": 0.0, "reached_at": None},
        ],
    }


def test_historical_usage_counts_toward_thresholds(api, subscription):
    use(at(2024, 4, 3), 900, "a")
    assert (
        subscription_check_thresholds(subscription_id=subscription.pk, now=at(2024, 4, 3, 1))
        is None
    )
    before = get(api, at(2024, 4, 3, 1))["lago_id"]
    response = put(
        api, at(2024, 4, 3, 2), {"lifetime_usage": {"external_historical_usage_amount_cents": 500}}
    )
    assert response.status_code == 200, response.content
    body = response.json()["lifetime_usage"]
    assert body["lago_id"] == before  # the same id before and after the row exists
    assert (body["external_historical_usage_amount_cents"], body["current_usage_amount_cents"]) == (
        500,
        900,
    )
    assert body["usage_thresholds"][:2] == [
        {"amount_cents": 1000, "completion_ratio": 1.0, "reached_at": "2024-04-03T02:00:00Z"},
        {"amount_cents": 2000, "completion_ratio": 0.4, "reached_at": None},
    ]
    # $5 historical + $9 now passes $10: the period's usage so far is invoiced at once
    with time_machine.travel(at(2024, 4, 3, 3), tick=False):
        invoice = subscription_check_thresholds(
            subscription_id=subscription.pk, now=at(2024, 4, 3, 3)
        )
    assert (invoice.invoice_type, invoice.total_amount_cents) == ("progressive_billing", 900)
    reached = get(api, at(2024, 4, 4))["usage_thresholds"][0]
    assert reached == {
        "amount_cents": 1000,
        "completion_ratio": 1.0,
        "reached_at": "2024-04-03T03:00:00Z",
    }


def test_invoiced_usage_of_closed_periods(api, subscription):
    use(at(2024, 4, 3), 700, "a")  # $7, below every threshold
    [april] = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    assert april.invoice_type == "subscription"
    use(at(2024, 5, 2), 200, "b")
    body = get(api, at(2024, 5, 3))
    assert (body["invoiced_usage_amount_cents"], body["current_usage_amount_cents"]) == (700, 200)
    assert body["usage_thresholds"][0] == {
        "amount_cents": 1000,
        "completion_ratio": 0.9,
        "reached_at": None,
    }


def test_recurring_steps_after_the_fixed_thresholds(subscription):
    use(at(2024, 4, 3), 4500, "a")  # $45: $10, $20, then $30 and $40 recurring, $50 at 50 %
    lifetime = lifetime_usage_get(subscription, at(2024, 4, 3, 1))
    steps = [(s.amount_cents, s.completion_ratio) for s in thresholds_progress(lifetime)]
    assert steps == [(1000, 1), (2000, 1), (3000, 1), (4000, 1), (5000, Fraction(1, 2))]
    with time_machine.travel(at(2024, 4, 3, 2), tick=False):
        subscription_check_thresholds(subscription_id=subscription.pk, now=at(2024, 4, 3, 2))
    assert AppliedUsageThreshold.objects.count() == 4
    applied = sorted(
        (a.usage_threshold.recurring, a.usage_threshold.amount_cents, a.occurrence)
        for a in AppliedUsageThreshold.objects.select_related("usage_threshold")
    )
    assert applied == [(False, 1000, 1), (False, 2000, 1), (True, 1000, 1), (True, 1000, 2)]
    lifetime = lifetime_usage_get(subscription, at(2024, 4, 5))
    assert all(s.reached_at == at(2024, 4, 3, 2) for s in thresholds_progress(lifetime)[:4])


def test_no_thresholds_no_usage_thresholds_key(api):
    plan([])
    assert "usage_thresholds" not in get(api, at(2024, 4, 2))


@pytest.mark.parametrize(
    ("value", "code"),
    [
        (-1, "value_is_out_of_range"),
        ("12", "invalid_format"),
        (1.5, "invalid_format"),
        (True, "invalid_format"),
        (2**63, "value_is_out_of_range"),
        (None, "value_is_mandatory"),
    ],
)
def test_bad_historical_amount_is_refused(api, subscription, value, code):
    response = put(
        api, at(2024, 4, 2), {"lifetime_usage": {"external_historical_usage_amount_cents": value}}
    )
    assert response.status_code == 422
    assert response.json()["error_details"] == {"external_historical_usage_amount_cents": [code]}
    assert get(api, at(2024, 4, 2))["external_historical_usage_amount_cents"] == 0


def test_missing_root_and_unknown_subscription(api, subscription):
    assert (
        put(api, at(2024, 4, 2), {"external_historical_usage_amount_cents": 5}).status_code == 400
    )
    response = api.get("/api/v1/subscriptions/nope/lifetime_usage")
    assert response.json() == {
        "status": 404,
        "error": "Not Found",
        "code": "subscription_not_found",
    }
    assert not Invoice.objects.filter(invoice_type="progressive_billing").exists()
