"""Pay-in-advance charges and usage thresholds whatever the timing of the follow-up task.

Every in-advance event is billed exactly once and every crossed threshold invoiced once, whether
the follow-up runs eagerly (with or without a debounce delay), late through a broker, twice, or
not at all (the beat sweep, then the period close, catch up). Amounts are exact minor units:
calls cost $0.25 each (in advance), tokens $0.01 each (in arrears)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache

from customers.models import Subscription
from customers.services import customer_upsert, subscription_create, subscription_terminate
from invoices.models import AppliedUsageThreshold, Fee, Invoice
from invoices.services import subscription_bill_due
from invoices.tasks import check_usage_thresholds, finalize_due_drafts, usage_followup
from tests.factories import make_metric, make_plan, standard_charge
from tests.invoices.followups import broker
from usage.services import events_ingest

pytestmark = pytest.mark.django_db
CALL = 25  # cents per call, billed in advance


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(autouse=True)
def empty_cache():
    """The debounce keys live in the (per-process) cache: each test starts without any."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def plan():
    calls = make_metric("calls", field_name="units")
    tokens = make_metric("tokens", field_name="tokens")
    return make_plan(
        "pro",
        1000,
        charges=[
            standard_charge(calls, "0.25", pay_in_advance=True),
            standard_charge(tokens, "0.01"),
        ],
        usage_thresholds=[{"amount_cents": 1000}, {"amount_cents": 2000}],
    )


@pytest.fixture
def subscription(plan) -> Subscription:
    with time_machine.travel(at(2024, 4, 1), tick=False):
        return subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )


def send(
    capture, moment: datetime, tx: str, calls: int = 0, tokens: int = 0, timestamp=None
) -> None:
    """One event ingested at `moment`, its after-commit follow-ups run as they would."""
    properties = {"units": calls} if calls else {"tokens": tokens}
    with time_machine.travel(moment, tick=False), capture(execute=True):
        events_ingest(
            raws=[
                {
                    "transaction_id": tx,
                    "external_subscription_id": "sub",
                    "code": "calls" if calls else "tokens",
                    "timestamp": (timestamp or moment).isoformat(),
                    "properties": properties,
                }
            ]
        )


def run(queue: list, moment: datetime, capture) -> None:
    """The worker picks up every queued follow-up at `moment`."""
    pending, queue[:] = list(queue), []
    with time_machine.travel(moment, tick=False), capture(execute=True):
        for args in pending:
            usage_followup.apply(args=args)


def in_advance_invoices() -> list[int]:
    return list(
        Invoice.objects.filter(billings__invoicing_reason="in_advance_charge")
        .order_by("pk")
        .values_list("total_amount_cents", flat=True)
    )


def progressive_invoices() -> list[int]:
    return list(
        Invoice.objects.filter(invoice_type="progressive_billing")
        .order_by("pk")
        .values_list("total_amount_cents", flat=True)
    )


def calls_fees(invoice: Invoice) -> list[tuple]:
    """The in-advance fees (calls) on an invoice: (units, cents)."""
    return [
        (f.units, f.amount_cents)
        for f in invoice.fees.filter(charge__billable_metric__code="calls").order_by("pk")
    ]


def close_april(subscription) -> Invoice:
    [april] = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    return april


def calls_billed() -> int:
    """Everything ever billed for calls, whatever invoice carries it (voided ones excluded)."""
    fees = Fee.objects.filter(charge__billable_metric__code="calls").exclude(
        invoice__status="voided"
    )
    return sum(fees.values_list("amount_cents", flat=True))


T0 = at(2024, 4, 10, 12)


# --- (a) eager, no delay ---------------------------------------------------------------------


def test_back_to_back_events_are_each_billed_once(subscription, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    for seconds, tx, calls in [(0, "a", 3), (2, "b", 5), (4, "c", 2), (86400, "d", 4)]:
        send(capture, T0 + timedelta(seconds=seconds), tx, calls=calls)
    assert in_advance_invoices() == [3 * CALL, 5 * CALL, 2 * CALL, 4 * CALL]
    april = close_april(subscription)
    assert calls_fees(april) == []  # nothing left: every call was billed as it came
    assert april.total_amount_cents == 1000  # the base fee
    assert calls_billed() == 14 * CALL


# --- (b) eager with a debounce delay ---------------------------------------------------------


def test_back_to_back_events_with_a_debounce_delay_under_eager_tasks(
    subscription, django_capture_on_commit_callbacks, settings
):
    """Landed code: the first event's key (10 s) outlived its eager run, so the next events
    within 10 s scheduled nothing; they were billed only by a later event's run."""
    settings.USAGE_FOLLOWUP_DELAY_SECONDS = 10
    capture = django_capture_on_commit_callbacks
    for seconds, tx, calls in [(0, "a", 3), (2, "b", 5), (4, "c", 2), (86400, "d", 4)]:
        send(capture, T0 + timedelta(seconds=seconds), tx, calls=calls)
    assert in_advance_invoices() == [3 * CALL, 5 * CALL, 2 * CALL, 4 * CALL]
    assert calls_fees(close_april(subscription)) == []
    assert calls_billed() == 14 * CALL


def test_the_last_events_of_a_burst_are_not_lost_under_a_debounce_delay(
    subscription, django_capture_on_commit_callbacks, settings
):
    """Landed code: nothing came after the burst, so the second event was never billed and the
    period close billed $0 for calls."""
    settings.USAGE_FOLLOWUP_DELAY_SECONDS = 10
    capture = django_capture_on_commit_callbacks
    send(capture, T0, "a", calls=3)
    send(capture, T0 + timedelta(seconds=3), "b", calls=5)
    april = close_april(subscription)
    assert in_advance_invoices() == [3 * CALL, 5 * CALL]
    assert calls_fees(april) == []
    assert calls_billed() == 8 * CALL


# --- through a broker: late, early, across the period end ------------------------------------


def test_a_run_that_starts_before_the_debounce_key_expires_misses_nothing(
    subscription, django_capture_on_commit_callbacks, settings
):
    """A worker whose clock runs ahead (or a shared cache whose key outlives the run): the run
    reads usage while the key still stands. Landed code: an event committed after that read and
    before the key expired scheduled nothing, and was billed by nobody."""
    settings.USAGE_FOLLOWUP_DELAY_SECONDS = 10
    capture = django_capture_on_commit_callbacks
    with broker() as queue:
        send(capture, T0, "a", calls=3)
        send(capture, T0 + timedelta(seconds=1), "b", calls=1)  # same burst: one run
        assert queue == [("sub",)]
        run(queue, T0 + timedelta(seconds=5), capture)
        send(capture, T0 + timedelta(seconds=6), "c", calls=5)  # after the run read usage
        run(queue, T0 + timedelta(seconds=16), capture)
    assert in_advance_invoices() == [4 * CALL, 5 * CALL]
    assert calls_fees(close_april(subscription)) == []
    assert calls_billed() == 9 * CALL


def test_a_burst_makes_one_run_that_bills_it_all(
    subscription, django_capture_on_commit_callbacks, settings
):
    settings.USAGE_FOLLOWUP_DELAY_SECONDS = 10
    capture = django_capture_on_commit_callbacks
    with broker() as queue:
        for seconds, tx in enumerate("abcde"):
            send(capture, T0 + timedelta(seconds=seconds), tx, calls=seconds + 1)
        assert queue == [("sub",)]  # debounced
        run(queue, T0 + timedelta(seconds=10), capture)
    assert in_advance_invoices() == [15 * CALL]
    assert calls_billed() == 15 * CALL


def test_a_run_delayed_past_the_period_end_leaves_the_close_to_bill(
    subscription, django_capture_on_commit_callbacks, settings
):
    """Landed code: the run, due after midnight, billed May (nothing) and April's last call was
    never billed."""
    settings.USAGE_FOLLOWUP_DELAY_SECONDS = 10
    capture = django_capture_on_commit_callbacks
    with broker() as queue:
        send(capture, at(2024, 4, 30, 23, 59, 55), "last", calls=2)
        run(queue, at(2024, 5, 1, 0, 0, 5), capture)
    assert in_advance_invoices() == []
    april = close_april(subscription)
    assert calls_fees(april) == [(2, 2 * CALL)]
    assert april.total_amount_cents == 1000 + 2 * CALL
    assert calls_billed() == 2 * CALL


# --- (c) run twice ---------------------------------------------------------------------------


def test_a_follow_up_run_twice_bills_once(subscription, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    with broker() as queue:
        send(capture, T0, "a", calls=3)
        send(capture, T0 + timedelta(seconds=1), "b", calls=4)
        queue.append(queue[0])  # delivered twice (a redelivery, a retry)
        run(queue, T0 + timedelta(seconds=10), capture)
        run([("sub",)], T0 + timedelta(seconds=11), capture)
    assert in_advance_invoices() == [7 * CALL]
    assert calls_fees(close_april(subscription)) == []
    assert calls_billed() == 7 * CALL


# --- (d) a follow-up lost --------------------------------------------------------------------


def test_a_lost_follow_up_is_billed_by_the_period_close_once(
    subscription, django_capture_on_commit_callbacks
):
    """Landed code: the close left in-advance charges out, so lost usage was never billed."""
    capture = django_capture_on_commit_callbacks
    send(capture, T0, "a", calls=3)  # billed at once
    with broker():  # the next follow-ups never reach a worker
        send(capture, T0 + timedelta(seconds=2), "b", calls=5)
        send(capture, T0 + timedelta(days=2), "c", calls=2)
        send(capture, T0 + timedelta(days=3), "t", tokens=300)
    assert in_advance_invoices() == [3 * CALL]
    april = close_april(subscription)
    assert calls_fees(april) == [(7, 7 * CALL)]
    assert april.fees.get(charge__billable_metric__code="calls").pay_in_advance is True
    assert april.total_amount_cents == 1000 + 7 * CALL + 300
    # a follow-up arriving after the close bills nothing more for April
    run([("sub",)], at(2024, 5, 1, 0, 2), capture)
    assert in_advance_invoices() == [3 * CALL]
    assert calls_billed() == 10 * CALL


def test_a_lost_follow_up_is_rescheduled_by_the_next_event_after_the_key_expires(
    subscription, django_capture_on_commit_callbacks, settings
):
    settings.USAGE_FOLLOWUP_DELAY_SECONDS = 10
    capture = django_capture_on_commit_callbacks
    with broker() as queue:
        send(capture, T0, "a", calls=3)
        queue.clear()  # the worker died with it
        send(capture, T0 + timedelta(seconds=4), "b", calls=1)
        assert queue == []  # a run is believed to be on its way
    send(capture, T0 + timedelta(seconds=30), "c", calls=2)
    assert in_advance_invoices() == [6 * CALL]
    assert calls_billed() == 6 * CALL


def test_the_beat_sweep_bills_a_lost_follow_up(subscription, django_capture_on_commit_callbacks):
    """Landed code: the beat looked at subscriptions with thresholds only."""
    subscription.plan.usage_thresholds.all().delete()
    capture = django_capture_on_commit_callbacks
    with broker():
        send(capture, T0, "a", calls=3)
        send(capture, T0 + timedelta(seconds=2), "b", calls=5)
    assert in_advance_invoices() == []
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False), capture(execute=True):
        check_usage_thresholds()
    assert in_advance_invoices() == [8 * CALL]
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False), capture(execute=True):
        check_usage_thresholds()  # nothing new: nothing billed
    assert in_advance_invoices() == [8 * CALL]
    assert calls_fees(close_april(subscription)) == []


def test_the_termination_invoice_bills_what_a_lost_follow_up_left(
    subscription, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with broker():
        send(capture, T0, "a", calls=3)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False), capture(execute=True):
        subscription_terminate(subscription=subscription)
    [final] = Invoice.objects.all()
    assert final.billings.get().invoicing_reason == "subscription_terminating"
    assert calls_fees(final) == [(3, 3 * CALL)]
    assert calls_billed() == 3 * CALL


def test_a_follow_up_at_the_instant_of_the_termination_leaves_the_final_invoice_due(
    subscription, django_capture_on_commit_callbacks
):
    """An in-advance billing and the termination at the same instant: the in-advance invoice's
    billing (boundary = that instant) must not pass for the final invoice (it did)."""
    capture = django_capture_on_commit_callbacks
    with broker():
        send(capture, T0, "a", calls=3)
    moment = T0 + timedelta(hours=1)
    run([("sub",)], moment, capture)
    with time_machine.travel(moment, tick=False), capture(execute=True):
        subscription_terminate(subscription=subscription)
    final = Invoice.objects.get(billings__invoicing_reason="subscription_terminating")
    assert (final.status, calls_fees(final), final.total_amount_cents) == (
        "finalized",
        [],
        1000 * 10 // 30,
    )
    assert in_advance_invoices() == [3 * CALL]
    assert calls_billed() == 3 * CALL


def test_a_draft_refreshed_in_its_grace_period_bills_lost_usage_once(
    subscription, django_capture_on_commit_callbacks
):
    customer_upsert(
        data={"external_id": "cust", "billing_configuration": {"invoice_grace_period": 2}}
    )
    capture = django_capture_on_commit_callbacks
    with broker():
        send(capture, T0, "a", calls=3)
    draft = close_april(subscription)
    assert (draft.status, calls_fees(draft)) == ("draft", [(3, 3 * CALL)])
    with broker():  # a late call of April, its follow-up lost too
        send(capture, at(2024, 5, 1, 12), "late", calls=1, timestamp=at(2024, 4, 30, 22))
    with time_machine.travel(at(2024, 5, 3, 0, 2), tick=False), capture(execute=True):
        finalize_due_drafts()
    draft.refresh_from_db()
    assert draft.status == "finalized"
    assert calls_fees(draft) == [(4, 4 * CALL)]
    assert draft.total_amount_cents == 1000 + 4 * CALL
    assert calls_billed() == 4 * CALL


# --- (e) thresholds --------------------------------------------------------------------------


def test_thresholds_crossed_back_to_back_are_each_invoiced(
    subscription, django_capture_on_commit_callbacks, settings
):
    """Landed code: the second crossing, 3 s after the first, scheduled no run."""
    settings.USAGE_FOLLOWUP_DELAY_SECONDS = 10
    capture = django_capture_on_commit_callbacks
    send(capture, T0, "c", calls=100)  # $25 in advance: Lago counts in-arrears charges only
    send(capture, T0 + timedelta(seconds=2), "t1", tokens=1200)  # $12: crosses $10
    send(capture, T0 + timedelta(seconds=5), "t2", tokens=900)  # $21: crosses $20
    assert progressive_invoices() == [1200, 900]
    assert sorted(
        AppliedUsageThreshold.objects.values_list("usage_threshold__amount_cents", flat=True)
    ) == [1000, 2000]
    assert in_advance_invoices() == [100 * CALL]
    april = close_april(subscription)
    assert (
        april.fees_amount_cents,
        april.progressive_billing_credit_amount_cents,
        april.total_amount_cents,
    ) == (1000 + 2100, 2100, 1000)


def test_thresholds_crossed_while_the_follow_up_was_lost_are_invoiced_by_the_beat(
    subscription, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with broker():
        send(capture, T0, "t1", tokens=1200)
        send(capture, T0 + timedelta(seconds=1), "t2", tokens=900)
    assert progressive_invoices() == []
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False), capture(execute=True):
        check_usage_thresholds()
        check_usage_thresholds()  # beat fired twice
    assert progressive_invoices() == [2100]
    assert AppliedUsageThreshold.objects.count() == 2
