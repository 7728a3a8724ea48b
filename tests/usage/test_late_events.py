"""Lago's late events: an event timed in a period whose invoice was already finalized is stored
(and counted once) but never billed. The ingestion answer says so per event, with the field and
a reason code (`"warnings": {"timestamp": ["period_already_invoiced"]}`, `{}` otherwise), and the
dashboard's ingestion health counts such events. A draft still in its grace period, or an
in-advance invoice of a period still open, makes no event late."""

from datetime import UTC, date, datetime

import pytest
import time_machine

from backoffice import dashboard
from customers.models import Subscription
from customers.services import customer_upsert, subscription_create
from invoices.models import Invoice
from invoices.services import subscription_bill_due
from tests.factories import make_metric, make_plan, standard_charge

pytestmark = pytest.mark.django_db
LATE = {"timestamp": ["period_already_invoiced"]}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def subscribe(grace_days: int = 0) -> Subscription:
    calls = make_metric("calls", field_name="units")
    tokens = make_metric("tokens", field_name="tokens")
    make_plan(
        "pro",
        1000,
        charges=[
            standard_charge(calls, "0.25", pay_in_advance=True),
            standard_charge(tokens, "0.01"),
        ],
    )
    with time_machine.travel(at(2024, 4, 1), tick=False):
        customer_upsert(
            data={
                "external_id": "cust",
                "currency": "USD",
                "billing_configuration": {"invoice_grace_period": grace_days},
            }
        )
        return subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )


def close_april(subscription: Subscription) -> Invoice:
    with time_machine.travel(at(2024, 5, 1, 0, 5), tick=False):
        subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 5))
    return Invoice.objects.filter(billings__charges_to_datetime=at(2024, 5, 1)).get()


def event(tx: str, timestamp: datetime, code: str = "tokens") -> dict:
    properties = {"tokens": 100} if code == "tokens" else {"units": 1}
    return {
        "transaction_id": tx,
        "external_subscription_id": "sub",
        "code": code,
        "timestamp": timestamp.isoformat(),
        "properties": properties,
    }


def post(api, moment: datetime, body: dict, path: str = "/api/v1/events") -> dict:
    with time_machine.travel(moment, tick=False):
        response = api.post(path, body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def test_an_event_of_an_invoiced_period_is_stored_with_a_warning(api):
    invoice = close_april(subscribe())
    assert invoice.status == Invoice.Status.FINALIZED

    late = post(api, at(2024, 5, 2), {"event": event("late", at(2024, 4, 30, 12))})["event"]
    on_time = post(api, at(2024, 5, 2), {"event": event("may", at(2024, 5, 1, 9))})["event"]
    retry = post(api, at(2024, 5, 3), {"event": event("late", at(2024, 4, 30, 12))})["event"]

    assert (late["status"], late["error_code"], late["warnings"]) == ("stored", None, LATE)
    assert (on_time["status"], on_time["warnings"]) == ("stored", {})
    assert (retry["status"], retry["warnings"]) == ("duplicate", LATE)


def test_a_batch_answers_per_event(api):
    close_april(subscribe())
    events = [
        event("a", at(2024, 5, 1, 1)),
        event("b", at(2024, 4, 1)),  # the period's first instant
        event("c", at(2024, 3, 31, 23, 59)),  # before the subscription: no invoice covers it
    ]
    answer = post(api, at(2024, 5, 2), {"events": events}, "/api/v1/events/batch")["events"]
    assert [e["warnings"] for e in answer] == [{}, LATE, {}]


def test_a_draft_in_its_grace_period_takes_the_event(api):
    invoice = close_april(subscribe(grace_days=3))
    assert invoice.status == Invoice.Status.DRAFT
    late = post(api, at(2024, 5, 2), {"event": event("late", at(2024, 4, 30))})["event"]
    assert late["warnings"] == {}


def test_an_unknown_subscription_or_metric_is_never_late(api):
    close_april(subscribe())
    unknown = event("x", at(2024, 4, 30)) | {"code": "nope"}
    answer = post(api, at(2024, 5, 2), {"event": unknown})["event"]
    assert (answer["error_code"], answer["warnings"]) == ("unknown_metric", {})


def test_an_in_advance_invoice_leaves_its_period_open(api, django_capture_on_commit_callbacks):
    """A pay-in-advance charge is invoiced (and finalized) at once for the whole period: the
    period's later usage is still billed at its close, so nothing is late, in the answer or in
    ingestion health."""
    subscribe()
    with (
        time_machine.travel(at(2024, 4, 10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        post(api, at(2024, 4, 10), {"event": event("call", at(2024, 4, 10), code="calls")})
    in_advance = Invoice.objects.filter(billings__invoicing_reason="in_advance_charge").get()
    assert in_advance.status == Invoice.Status.FINALIZED

    later = post(api, at(2024, 4, 11), {"event": event("later", at(2024, 4, 10, 12))})["event"]

    assert later["warnings"] == {}
    health = dashboard.ingestion_health(at(2024, 4, 11), date(2024, 4, 1), date(2024, 4, 30))
    assert health.late_after_close == 0


def test_ingestion_health_counts_late_events(api):
    close_april(subscribe())
    post(api, at(2024, 5, 2), {"event": event("late", at(2024, 4, 30))})
    post(api, at(2024, 5, 2), {"event": event("may", at(2024, 5, 1, 9))})
    health = dashboard.ingestion_health(at(2024, 5, 2), date(2024, 5, 1), date(2024, 5, 31))
    assert (health.accepted, health.late_after_close) == (2, 1)
