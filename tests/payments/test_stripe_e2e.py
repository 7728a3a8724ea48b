"""The whole loop with no manual step: beat tasks bill the period and collect the invoice at
localstripe, and localstripe's own signed webhooks reach our live server. A good card ends
paid; a declining card ends failed, retried on the dunning schedule, then overdue.

PostgreSQL only: the webhooks arrive while the test works, and SQLite's in-memory test
database is one connection shared by the live server's threads and the test."""

from datetime import UTC, datetime

import pytest
import requests
import time_machine

from core import display
from invoices.models import Invoice
from invoices.tasks import bill_due_subscriptions
from payments.models import Payment, StripeEvent
from payments.tasks import reconcile, retry_due
from tests.live import wait_for
from tests.payments.helpers import (
    DECLINES,
    card,
    give_card,
)
from tests.stripe_fake import WEBHOOK_SECRET

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]
PAYMENT_EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed"]


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def webhooks_to_us(live_server, stripe_on):
    """localstripe delivers its events, signed, to our endpoint; pointed away afterwards."""
    hook = f"{stripe_on}/_config/webhooks/e2e"
    url = f"{live_server.url}/webhooks/stripe"
    body = {"url": url, "secret": WEBHOOK_SECRET, "events": PAYMENT_EVENTS}
    requests.post(hook, json=body, timeout=5).raise_for_status()
    yield
    body = {"url": "http://127.0.0.1:9/", "secret": "x", "events": ["none"]}
    requests.post(hook, json=body, timeout=5)


def wait_for_webhook(check, what: str) -> None:
    """Wait for localstripe's delivery; on a timeout, say what did arrive."""
    try:
        wait_for(check, timeout=30, what=what)
    except AssertionError as exc:
        seen = list(StripeEvent.objects.values_list("event_type", "outcome", "received_at"))
        raise AssertionError(f"{exc}; events received: {seen}") from None


def events(event_type: str, payment: Payment) -> int:
    """Events about this payment (localstripe may still deliver an earlier test's events)."""
    about = {"payload__data__object__metadata__payment_id": str(payment.lago_id)}
    return StripeEvent.objects.filter(event_type=event_type, **about).count()


def bill_a_month(api) -> Invoice:
    """A monthly plan subscribed on April 1st, billed by the beat task on May 1st."""
    from tests.factories import make_plan

    make_plan("pro", 4200)
    with time_machine.travel(at(2024, 4, 1), tick=False):
        api.post(
            "/api/v1/subscriptions",
            {
                "subscription": {
                    "external_customer_id": "acme",
                    "plan_code": "pro",
                    "external_id": "s",
                }
            },
        )
    with time_machine.travel(at(2024, 5, 1, 0, 5), tick=False):
        assert bill_due_subscriptions.apply().result == 1
    return Invoice.objects.get(invoice_type="subscription")


def test_a_good_card_pays_the_invoice_by_itself(api, stripe_customer, webhooks_to_us):
    give_card(stripe_customer, "pm_card_visa")
    invoice = bill_a_month(api)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.total_amount_cents) == ("finalized", 4200)
    assert invoice.payment_status == "succeeded"
    payment = Payment.objects.get(invoice=invoice)
    wait_for_webhook(lambda: events("payment_intent.succeeded", payment) == 1, "the webhook")
    record = StripeEvent.objects.get(
        event_type="payment_intent.succeeded",
        outcome__isnull=False,
        payload__data__object__id=payment.provider_payment_id,
    )
    assert record.outcome == "payment succeeded"
    assert (payment.status, payment.attempts) == ("succeeded", 1)
    assert reconcile.apply().result == 0  # Stripe and our rows agree


def test_a_declining_card_ends_overdue_after_the_retries(
    api, stripe_customer, webhooks_to_us, mailoutbox
):
    give_card(stripe_customer, card(DECLINES))
    invoice = bill_a_month(api)
    payment = Payment.objects.get(invoice=invoice)
    assert (payment.status, payment.attempts) == ("failed", 1)
    failures = lambda: events("payment_intent.payment_failed", payment)  # noqa: E731
    wait_for_webhook(lambda: failures() == 1, "webhook 1")
    for attempt, day in ((2, 4), (3, 9), (4, 16)):  # 3, 5 and 7 days after each failure
        with time_machine.travel(at(2024, 5, day, 1), tick=False):
            assert retry_due.apply().result == 1
        wait_for_webhook(lambda n=attempt: failures() == n, f"webhook {attempt}")
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert (payment.status, payment.attempts, payment.next_retry_at) == ("failed", 4, None)
    assert (invoice.payment_status, invoice.payment_overdue) == ("failed", True)
    assert [m.subject for m in mailoutbox if "failed for good" in m.subject] == [
        f"Payment failed for good: invoice {invoice.number}"
    ]
    [told] = [m.body for m in mailoutbox if "failed for good" in m.subject]
    assert f"({display.money(payment.amount_cents, payment.currency)}) failed" in told
    with time_machine.travel(at(2024, 6, 1, 1), tick=False):
        assert retry_due.apply().result == 0  # no retry after the last one
