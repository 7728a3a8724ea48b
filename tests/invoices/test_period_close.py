"""Clock-driven period close, in the style of Kill Bill's scenarios: subscribe, send usage, move
the clock, run the beat task, assert the exact invoices and fees."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from customers.models import Subscription
from customers.services import customer_upsert, subscription_create, subscription_terminate
from customers.tasks import activate_due_subscriptions
from invoices.models import Invoice
from invoices.tasks import bill_due_subscriptions
from tests.factories import make_metric, make_plan, standard_charge
from usage.services import events_ingest

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def run_beat(moment: datetime) -> list[Invoice]:
    """What beat does at `moment`: activate due subscriptions, then bill what is due."""
    before = set(Invoice.objects.values_list("pk", flat=True))
    with time_machine.travel(moment, tick=False):
        activate_due_subscriptions()
        bill_due_subscriptions()
    return list(Invoice.objects.exclude(pk__in=before).order_by("issuing_date", "pk"))


def subscribe(moment, plan_code="pro", external_id="sub", customer="cust", **extra):
    with time_machine.travel(moment, tick=False):
        return subscription_create(
            data={
                "external_customer_id": customer,
                "plan_code": plan_code,
                "external_id": external_id,
                **extra,
            }
        )


def send(moment, tokens, external_id="sub", tx=None, **properties):
    events_ingest(
        raws=[
            {
                "transaction_id": tx or f"{external_id}-{moment.isoformat()}-{tokens}",
                "external_subscription_id": external_id,
                "code": "tokens",
                "timestamp": moment.isoformat(),
                "properties": {"tokens": tokens, **properties},
            }
        ],
        now=moment,
    )


def fees(invoice: Invoice) -> list[tuple]:
    return [
        (f.fee_type, f.invoice_display_name, f.units, f.amount_cents)
        for f in invoice.fees.order_by("id")
    ]


@pytest.fixture
def tokens():
    return make_metric("tokens", field_name="tokens")


def test_monthly_calendar_in_arrears_prorates_the_first_month(tokens):
    make_plan("pro", 3100, charges=[standard_charge(tokens, "0.01")])
    subscribe(at(2024, 3, 10, 9))
    send(at(2024, 3, 12), 1000)
    send(at(2024, 4, 2), 50)  # next period
    assert run_beat(at(2024, 3, 31, 23)) == []
    [invoice] = run_beat(at(2024, 4, 1, 0, 5))
    # 22 of 31 days (Mar 10-31) of $31.00 = $22.00; 1,000 tokens x $0.01 = $10.00
    assert fees(invoice) == [
        ("charge", "Tokens", Decimal(1000), 1000),
        ("subscription", "Pro", Decimal(1), 2200),
    ]
    assert (invoice.status, invoice.number, invoice.total_amount_cents) == (
        "finalized",
        "INV-202404-0001",
        3200,
    )
    assert invoice.issuing_date.isoformat() == "2024-04-01"
    assert run_beat(at(2024, 4, 1, 0, 10)) == []  # beat again: nothing more
    [may] = run_beat(at(2024, 5, 1, 1))
    assert fees(may) == [("charge", "Tokens", Decimal(50), 50), ("subscription", "Pro", 1, 3100)]
    assert may.number == "INV-202405-0001"


def test_base_fee_in_advance_is_billed_at_the_start_then_each_period(tokens):
    make_plan("pro", 3000, charges=[standard_charge(tokens, "0.01")], pay_in_advance=True)
    subscribe(at(2024, 4, 16))  # April has 30 days: 15 left
    [start] = Invoice.objects.all()
    assert fees(start) == [("subscription", "Pro", 1, 1500)]
    send(at(2024, 4, 20), 200)
    [periodic] = run_beat(at(2024, 5, 1, 0, 1))
    assert fees(periodic) == [("charge", "Tokens", 200, 200), ("subscription", "Pro", 1, 3000)]
    base = periodic.fees.get(fee_type="subscription")
    assert (base.from_datetime, base.to_datetime) == (at(2024, 5, 1), at(2024, 6, 1))


def test_monthly_anniversary_started_on_the_31st(tokens):
    make_plan("pro", 1000, charges=[standard_charge(tokens, "1")])
    subscribe(at(2023, 1, 31, 12), billing_time="anniversary")
    send(at(2023, 2, 10), 3)
    [february] = run_beat(at(2023, 2, 28, 0, 1))  # Jan 31 - Feb 27
    assert fees(february) == [("charge", "Tokens", 3, 300), ("subscription", "Pro", 1, 1000)]
    assert run_beat(at(2023, 3, 30, 23)) == []
    [march] = run_beat(at(2023, 3, 31, 0, 1))  # Feb 28 - Mar 30
    assert fees(march) == [("subscription", "Pro", 1, 1000)]


def test_yearly_plan_with_charges_billed_monthly(tokens):
    make_plan(
        "yearly",
        120000,
        interval="yearly",
        pay_in_advance=True,
        bill_charges_monthly=True,
        charges=[standard_charge(tokens, "1")],
    )
    subscribe(at(2024, 1, 1), plan_code="yearly")
    [start] = Invoice.objects.all()
    assert fees(start) == [("subscription", "Yearly", 1, 120000)]
    send(at(2024, 1, 15), 7)
    send(at(2024, 2, 15), 9)
    [january] = run_beat(at(2024, 2, 1, 0, 1))
    assert fees(january) == [("charge", "Tokens", 7, 700)]
    [february] = run_beat(at(2024, 3, 1, 0, 1))
    assert fees(february) == [("charge", "Tokens", 9, 900)]


def test_weekly_calendar_weeks_run_monday_to_sunday(tokens):
    make_plan("weekly", 700, interval="weekly")
    subscribe(at(2024, 3, 6), plan_code="weekly")  # a Wednesday: 5 of 7 days
    [first] = run_beat(at(2024, 3, 11, 0, 1))
    assert fees(first) == [("subscription", "Weekly", 1, 500)]
    [second] = run_beat(at(2024, 3, 18, 0, 1))
    assert fees(second) == [("subscription", "Weekly", 1, 700)]


def test_upgrade_mid_period_bills_the_old_plan_to_the_day(tokens):
    make_plan("basic", 3000, charges=[standard_charge(tokens, "0.01")])
    make_plan("premium", 9000, charges=[standard_charge(tokens, "0.005")])
    subscribe(at(2024, 4, 1), plan_code="basic")
    send(at(2024, 4, 5), 1000)
    new = subscribe(at(2024, 4, 16, 12), plan_code="premium")  # upgrade: at once
    [old_final] = Invoice.objects.all()
    # basic in arrears for the days BEFORE the upgrade day (Lago): Apr 1-15 = 15 of 30 days of
    # $30 = $15; the upgrade day Apr 16 is premium's. Its usage until the upgrade: $10
    assert fees(old_final) == [("charge", "Tokens", 1000, 1000), ("subscription", "Basic", 1, 1500)]
    send(at(2024, 4, 20), 1000)
    [premium] = run_beat(at(2024, 5, 1, 0, 1))
    # premium from Apr 16: 15 of 30 days of $90 = $45; 1,000 tokens x $0.005 = $5
    assert fees(premium) == [("charge", "Tokens", 1000, 500), ("subscription", "Premium", 1, 4500)]
    assert premium.billings.get().subscription == new


def test_downgrade_starts_at_the_period_end(tokens):
    make_plan("basic", 3000)
    make_plan("premium", 9000)
    subscribe(at(2024, 4, 1), plan_code="premium")
    pending = subscribe(at(2024, 4, 10), plan_code="basic")
    assert pending.status == "pending"
    [april] = run_beat(at(2024, 5, 1, 0, 1))
    assert fees(april) == [("subscription", "Premium", 1, 9000)]
    pending.refresh_from_db()
    assert (pending.status, pending.started_at) == ("active", at(2024, 5, 1))
    [may] = run_beat(at(2024, 6, 1, 0, 1))
    assert fees(may) == [("subscription", "Basic", 1, 3000)]


def test_termination_bills_the_partial_period_at_once(tokens):
    make_plan("pro", 3000, charges=[standard_charge(tokens, "0.01")])
    subscription = subscribe(at(2024, 4, 1))
    send(at(2024, 4, 3), 500)
    send(at(2024, 4, 12), 400)  # after the termination: not billed
    with time_machine.travel(at(2024, 4, 10, 15), tick=False):
        subscription_terminate(subscription=subscription)
    [final] = Invoice.objects.all()
    assert fees(final) == [("charge", "Tokens", 500, 500), ("subscription", "Pro", 1, 1000)]
    assert final.billings.get().invoicing_reason == "subscription_terminating"
    assert run_beat(at(2024, 5, 1, 1)) == []


def test_trial_days_skip_the_base_fee_only(tokens):
    make_plan("pro", 3000, charges=[standard_charge(tokens, "0.01")], trial_period=10)
    subscribe(at(2024, 4, 1))
    send(at(2024, 4, 2), 300)  # usage during the trial is billed
    [april] = run_beat(at(2024, 5, 1, 0, 1))
    # the trial covers Apr 1-10: 20 of 30 days of $30 = $20
    assert fees(april) == [("charge", "Tokens", 300, 300), ("subscription", "Pro", 1, 2000)]


def test_minimum_commitment_true_up(tokens):
    make_plan(
        "pro",
        1000,
        charges=[standard_charge(tokens, "0.01")],
        minimum_commitment={"amount_cents": 5000},
    )
    subscribe(at(2024, 4, 1))
    send(at(2024, 4, 3), 1500)
    [april] = run_beat(at(2024, 5, 1, 0, 1))
    # fees $10 base + $15 usage = $25 < $50 commitment → $25 true-up
    assert fees(april) == [
        ("charge", "Tokens", 1500, 1500),
        ("subscription", "Pro", 1, 1000),
        ("commitment", "Minimum commitment true-up", 1, 2500),
    ]
    assert april.total_amount_cents == 5000


def test_charge_spending_minimum(tokens):
    make_plan("pro", 0, charges=[standard_charge(tokens, "0.01", min_amount_cents=2000)])
    subscribe(at(2024, 4, 1))
    send(at(2024, 4, 3), 500)
    [april] = run_beat(at(2024, 5, 1, 0, 1))
    assert [f[3] for f in fees(april)] == [500, 1500]
    assert fees(april)[1][1] == "Tokens — minimum spend true-up"


@pytest.mark.parametrize(
    ("zone", "boundary_utc"),
    [("America/New_York", at(2024, 4, 1, 4)), ("Asia/Tokyo", at(2024, 3, 31, 15))],
)
def test_periods_close_at_midnight_in_the_customer_zone(tokens, zone, boundary_utc):
    make_plan("pro", 3100)
    customer_upsert(data={"external_id": "cust", "timezone": zone})
    subscribe(at(2024, 3, 1, 12))
    assert run_beat(boundary_utc - timedelta(minutes=1)) == []
    [invoice] = run_beat(boundary_utc)
    assert invoice.issuing_date.isoformat() == "2024-04-01"
    assert fees(invoice) == [("subscription", "Pro", 1, 3100)]


def test_grace_period_keeps_a_draft_that_late_events_update(tokens):
    make_plan("pro", 0, charges=[standard_charge(tokens, "0.01")])
    customer_upsert(
        data={"external_id": "cust", "billing_configuration": {"invoice_grace_period": 3}}
    )
    subscribe(at(2024, 4, 1))
    send(at(2024, 4, 20), 100)
    [draft] = run_beat(at(2024, 5, 1, 0, 1))
    assert (draft.status, draft.number, draft.total_amount_cents) == ("draft", None, 100)
    send(at(2024, 4, 30, 23), 50, tx="late")  # arrives after the close, in the period
    from invoices.tasks import finalize_due_drafts

    with time_machine.travel(at(2024, 5, 3, 0, 2), tick=False):
        finalize_due_drafts()
    draft.refresh_from_db()
    assert draft.status == "draft"
    with time_machine.travel(at(2024, 5, 4, 0, 2), tick=False):
        finalize_due_drafts()
    draft.refresh_from_db()
    assert (draft.status, draft.total_amount_cents) == ("finalized", 150)


def test_zero_amount_invoices_are_skipped_when_asked(tokens):
    make_plan("free", 0, charges=[standard_charge(tokens, "0.01")])
    customer_upsert(data={"external_id": "cust", "finalize_zero_amount_invoice": "skip"})
    subscribe(at(2024, 4, 1), plan_code="free")
    run_beat(at(2024, 5, 1, 0, 1))
    assert list(Invoice.objects.values_list("status", "number")) == [("closed", None)]


def test_numbers_are_gapless_per_month(tokens):
    make_plan("pro", 100)
    for n in range(3):
        subscribe(at(2024, 4, 1), external_id=f"s{n}", customer=f"c{n}")
    invoices = run_beat(at(2024, 5, 1, 0, 1))
    assert sorted(i.number for i in invoices) == [
        "INV-202405-0001",
        "INV-202405-0002",
        "INV-202405-0003",
    ]


def test_billing_the_same_boundary_twice_makes_one_invoice(tokens):
    from invoices.services import subscription_bill

    make_plan("pro", 100)
    subscription = subscribe(at(2024, 4, 1))
    run_beat(at(2024, 5, 1, 0, 1))
    again = subscription_bill(
        subscription_id=subscription.pk,
        boundary=at(2024, 5, 1),
        reason="subscription_periodic",
        now=at(2024, 5, 1, 0, 2),
    )
    assert again is None
    assert Invoice.objects.count() == 1
    subscription.refresh_from_db()
    assert subscription.next_billing_at == at(2024, 6, 1)


def test_backdated_subscription_bills_no_past_period():
    make_plan("pro", 100, pay_in_advance=True)
    subscribe(at(2024, 4, 20), subscription_at="2024-01-15T00:00:00Z")
    assert not Invoice.objects.exists()
    [may] = run_beat(at(2024, 5, 1, 0, 1))
    assert fees(may) == [("subscription", "Pro", 1, 100)]
    assert Subscription.objects.get().next_billing_at == at(2024, 6, 1)


def test_pay_in_advance_charges_are_billed_as_usage_arrives(
    tokens, django_capture_on_commit_callbacks
):
    calls = make_metric("calls", "count_agg")
    make_plan(
        "pro",
        0,
        charges=[
            {
                "billable_metric_id": str(calls.lago_id),
                "charge_model": "standard",
                "pay_in_advance": True,
                "properties": {"amount": "0.5"},
            },
            standard_charge(tokens, "0.01"),
        ],
    )
    subscribe(at(2024, 4, 1))
    for n in [0, 1, 2, 0]:  # the last one is a retry: billed once
        with (
            time_machine.travel(at(2024, 4, n + 2, 1), tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            events_ingest(
                raws=[
                    {
                        "transaction_id": f"c{n}",
                        "external_subscription_id": "sub",
                        "code": "calls",
                        "timestamp": f"2024-04-0{n + 2}T00:00:00Z",
                    }
                ]
            )
    advance = list(Invoice.objects.order_by("pk"))
    assert [fees(i) for i in advance] == [[("charge", "Calls", 1, 50)]] * 3
    assert all(i.status == "finalized" for i in advance)
    send(at(2024, 4, 10), 100)
    [april] = run_beat(at(2024, 5, 1, 0, 1))
    assert fees(april) == [("charge", "Tokens", 100, 100)]  # in-advance calls not billed again
