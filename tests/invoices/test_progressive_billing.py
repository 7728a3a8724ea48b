"""Progressive billing: thresholds crossed during a period are invoiced at once (each once);
the period-end invoice deducts what they billed."""

from datetime import UTC, datetime

import pytest
import time_machine

from customers.services import subscription_create
from invoices.models import AppliedUsageThreshold, Invoice
from invoices.services import subscription_bill_due
from invoices.services.progressive import crossed_thresholds, subscription_check_thresholds
from plans.models import UsageThreshold
from tests.factories import make_metric, make_plan, standard_charge
from usage.services import events_ingest

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def subscription():
    tokens = make_metric("tokens", field_name="tokens")
    make_plan(
        "pro",
        500,
        charges=[standard_charge(tokens, "0.01")],
        usage_thresholds=[{"amount_cents": 1000}, {"amount_cents": 2000}],
    )
    with time_machine.travel(at(2024, 4, 1), tick=False):
        return subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )


def _use(day, tokens, tx):
    events_ingest(
        raws=[
            {
                "transaction_id": tx,
                "external_subscription_id": "sub",
                "code": "tokens",
                "timestamp": f"2024-04-{day:02d}T00:00:00Z",
                "properties": {"tokens": tokens},
            }
        ],
        now=at(2024, 4, day, 1),
    )


def test_two_thresholds_crossed_in_a_period_are_billed_once_each(subscription):
    _use(3, 900, "a")
    assert (
        subscription_check_thresholds(subscription_id=subscription.pk, now=at(2024, 4, 3, 2))
        is None
    )
    _use(5, 300, "b")  # $12: crosses $10
    first = subscription_check_thresholds(subscription_id=subscription.pk, now=at(2024, 4, 5, 2))
    assert (first.invoice_type, first.status, first.total_amount_cents) == (
        "progressive_billing",
        "finalized",
        1200,
    )
    again = subscription_check_thresholds(subscription_id=subscription.pk, now=at(2024, 4, 5, 3))
    assert again is None  # the same threshold is never billed twice
    _use(9, 1300, "c")  # $25: crosses $20
    second = subscription_check_thresholds(subscription_id=subscription.pk, now=at(2024, 4, 9, 2))
    assert second.total_amount_cents == 1300  # only what the first did not bill
    assert AppliedUsageThreshold.objects.count() == 2
    [april] = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    # $25 usage + $5 base, minus $25 already billed progressively
    assert (
        april.fees_amount_cents,
        april.progressive_billing_credit_amount_cents,
        april.total_amount_cents,
    ) == (3000, 2500, 500)


def _may(subscription, tokens: int, tx: str, hour: int):
    """Send May usage, then run the threshold check."""
    events_ingest(
        raws=[
            {
                "transaction_id": tx,
                "external_subscription_id": "sub",
                "code": "tokens",
                "timestamp": f"2024-05-03T0{hour}:00:00Z",
                "properties": {"tokens": tokens},
            }
        ],
        now=at(2024, 5, 3, hour, 30),
    )
    return subscription_check_thresholds(subscription_id=subscription.pk, now=at(2024, 5, 3, 9))


def test_thresholds_follow_lifetime_usage_across_periods(subscription):
    """Lago: thresholds are reached by lifetime usage (earlier periods' invoiced usage plus the
    current period's), each once in the subscription's life; they do not start again."""
    _use(5, 1200, "a")  # $12 in April: crosses $10
    subscription_check_thresholds(subscription_id=subscription.pk, now=at(2024, 4, 5, 2))
    subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    may = _may(subscription, 900, "m1", 1)  # $9 in May: lifetime $21 crosses $20 (not $10 again)
    assert may.total_amount_cents == 900
    assert sorted(
        AppliedUsageThreshold.objects.values_list("usage_threshold__amount_cents", flat=True)
    ) == [1000, 2000]
    assert _may(subscription, 300, "m2", 2) is None  # lifetime $24: nothing new
    assert Invoice.objects.filter(invoice_type="progressive_billing").count() == 2


def test_a_threshold_passed_by_usage_invoiced_at_a_period_end_is_not_billed_again(subscription):
    """Lago: a threshold that usage already invoiced at a period end passed (its progressive run
    never happened) is not billed later."""
    _use(5, 1500, "a")  # $15 in April, no threshold check ran
    subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    _may(subscription, 100, "m", 1)
    # lifetime $16: $10 was passed by April's invoiced usage, $20 not reached
    assert not Invoice.objects.filter(invoice_type="progressive_billing").exists()


def test_recurring_threshold_steps():
    fixed = UsageThreshold(amount_cents=1000, recurring=False)
    recurring = UsageThreshold(amount_cents=500, recurring=True)
    crossed = crossed_thresholds([fixed, recurring], 2100)
    assert [(t.recurring, n) for t, n in crossed] == [(False, 1), (True, 1), (True, 2)]
    assert crossed_thresholds([fixed, recurring], 999) == []
