"""Terminations and plan changes bill each day and each event once, through the public API:
end dates refused in the past, termination after a period closed ahead of the clock, upgrade
day, credit notes for unused days paid in advance (Lago's on_termination_credit_note and
on_termination_invoice), and the unique-constraint backstop leaving no orphan invoice."""

import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

from customers.models import Subscription
from invoices.models import CreditNote, Invoice, InvoiceSubscription
from invoices.services.close import AlreadyBilled, billing_invoice_create
from invoices.services.fees import plan_for
from invoices.tasks import bill_due_subscriptions
from tests.factories import make_plan

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def api_call(api, method: str, path: str, moment: datetime, body=None):
    with time_machine.travel(moment, tick=False):
        return getattr(api, method)(f"/api/v1/{path}", body, format="json")


def subscribe(api, moment, plan_code, external_id="sub", **extra):
    body = {
        "subscription": {
            "external_customer_id": "cust",
            "plan_code": plan_code,
            "external_id": external_id,
            **extra,
        }
    }
    response = api_call(api, "post", "subscriptions", moment, body)
    assert response.status_code == 200, response.json()
    return response.json()["subscription"]


def terminate(api, moment, external_id="sub", **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    response = api_call(api, "delete", f"subscriptions/{external_id}?{query}", moment)
    return response


def run_beat(moment: datetime) -> list[Invoice]:
    before = set(Invoice.objects.values_list("pk", flat=True))
    with time_machine.travel(moment, tick=False):
        bill_due_subscriptions()
    return list(Invoice.objects.exclude(pk__in=before).order_by("pk"))


def base_fees(invoice: Invoice) -> list[int]:
    return [f.amount_cents for f in invoice.fees.filter(fee_type="subscription")]


def net_billed_cents() -> int:
    """Every base fee invoiced minus every credit note item given back on them."""
    billed = sum(
        f.amount_cents
        for inv in Invoice.objects.exclude(status="voided")
        for f in inv.fees.filter(fee_type="subscription")
    )
    credited = sum(
        item.amount_cents for note in CreditNote.objects.all() for item in note.items.all()
    )
    return billed - credited


# --- end dates -------------------------------------------------------------------------------


def test_an_end_date_inside_an_invoiced_period_is_refused(api):
    """Lago's rule: ending_at must fall on a day after today (and after the start); the landed
    code accepted an October end in November and invoiced October a second time."""
    make_plan("pro", 3100)
    subscribe(api, at(2024, 10, 1), "pro")
    [october] = run_beat(at(2024, 11, 1, 0, 5))
    assert base_fees(october) == [3100]
    for ending_at in ("2024-10-20T00:00:00Z", "2024-11-15T08:00:00Z"):  # past, and today
        body = {"subscription": {"ending_at": ending_at}}
        response = api_call(api, "put", "subscriptions/sub", at(2024, 11, 15, 9), body)
        assert response.status_code == 422
        assert response.json()["error_details"] == {"ending_at": ["invalid_date"]}
    body = {"subscription": {"ending_at": "2024-11-16T00:00:00Z"}}
    assert api_call(api, "put", "subscriptions/sub", at(2024, 11, 15, 9), body).status_code == 200
    assert Invoice.objects.count() == 1  # nothing billed by the refused requests


def test_a_planned_end_reached_before_the_close_runs_is_billed_once(api):
    """The close beat runs before the termination beat: the end comes first, October is billed
    once (to its last day, in arrears) and no November fee is renewed in advance."""
    make_plan("pro", 3100, pay_in_advance=True)
    subscribe(api, at(2024, 10, 1), "pro", ending_at="2024-10-31T12:00:00Z")
    [start] = Invoice.objects.all()
    assert base_fees(start) == [3100]
    [final] = run_beat(at(2024, 11, 1, 0, 5))
    assert final.billings.get().invoicing_reason == "subscription_terminating"
    assert base_fees(final) == []  # October was paid in advance and fully used
    assert CreditNote.objects.count() == 0
    assert run_beat(at(2024, 12, 1, 0, 5)) == []
    assert net_billed_cents() == 3100


# --- a period closed ahead of the clock ------------------------------------------------------


def test_termination_after_an_early_close_bills_nothing_twice(api):
    """`bill_due --now` closes November on Nov 15; deleting the subscription the same day must
    not bill Nov 1-15 again, and gives back Nov 16-30 billed ahead: 15/30 x $30.00."""
    make_plan("pro", 3000)
    subscribe(api, at(2024, 11, 1), "pro")
    with time_machine.travel(at(2024, 11, 15, 10), tick=False):
        call_command("bill_due", now="2024-12-01T00:05:00Z", stdout=io.StringIO())
    [november] = Invoice.objects.all()
    assert (base_fees(november), november.status) == ([3000], "finalized")
    assert terminate(api, at(2024, 11, 15, 10)).status_code == 200
    final = Invoice.objects.exclude(pk=november.pk).get()
    assert final.fees_amount_cents == 0  # nothing left to bill
    [note] = CreditNote.objects.all()
    # used Nov 1-15: 15/30 x 3000 = 1500; billed 3000 -> 1500 back (the termination day is used)
    assert (note.invoice, note.total_amount_cents, note.credit_amount_cents) == (
        november,
        1500,
        1500,
    )
    assert net_billed_cents() == 1500
    assert run_beat(at(2024, 12, 1, 0, 10)) == []


# --- upgrades --------------------------------------------------------------------------------


def test_upgrade_day_is_billed_once_in_arrears(api):
    """Old plan for the days before the upgrade, new plan from the upgrade day (Lago)."""
    make_plan("basic", 3000)
    make_plan("premium", 9000)
    subscribe(api, at(2024, 4, 1), "basic")
    subscribe(api, at(2024, 4, 16, 12), "premium")
    [old_final] = Invoice.objects.all()
    assert base_fees(old_final) == [1500]  # Apr 1-15: 15/30 x 3000
    [premium] = run_beat(at(2024, 5, 1, 0, 1))
    assert base_fees(premium) == [4500]  # Apr 16-30: 15/30 x 9000
    assert net_billed_cents() == 1500 + 4500


def test_upgrade_of_a_plan_paid_in_advance_credits_the_unused_days(api):
    """Lago: upgrading from a plan paid in advance issues a credit note of the former plan's
    unused days (the upgrade day included), which the new plan's first invoice consumes."""
    make_plan("basic", 3000, pay_in_advance=True)
    make_plan("premium", 9000, pay_in_advance=True)
    subscribe(api, at(2024, 4, 1), "basic")
    [basic_start] = Invoice.objects.all()
    subscribe(api, at(2024, 4, 16, 12), "premium")
    [note] = CreditNote.objects.all()
    # Apr 16-30 unused: 3000 - round(15/30 x 3000) = 1500
    assert (note.invoice, note.total_amount_cents, note.reason) == (
        basic_start,
        1500,
        "order_change",
    )
    premium_start = Invoice.objects.order_by("pk").last()
    assert base_fees(premium_start) == [4500]  # Apr 16-30 of 9000
    assert premium_start.credit_notes_amount_cents == 1500
    assert premium_start.total_amount_cents == 3000
    assert net_billed_cents() == 1500 + 4500


# --- DELETE options --------------------------------------------------------------------------


@pytest.fixture
def advance_plan():
    return make_plan("pro", 3100, pay_in_advance=True)  # $31.00: a dollar a day in October


def _october_paid(api, paid: bool):
    subscribe(api, at(2024, 10, 1), "pro")
    invoice = Invoice.objects.get()
    if paid:
        body = {"invoice": {"payment_status": "succeeded"}}
        api_call(api, "put", f"invoices/{invoice.lago_id}", at(2024, 10, 2), body)
    return invoice


@pytest.mark.parametrize(
    ("option", "paid", "split"),
    [
        (None, False, (2100, 0, 0)),
        ("credit", True, (2100, 0, 0)),
        ("refund", True, (0, 2100, 0)),
        ("refund", False, (2100, 0, 0)),  # nothing paid: nothing to refund, all credited
        ("offset", False, (0, 0, 2100)),  # taken off the unpaid invoice
        ("offset", True, (0, 2100, 0)),
    ],
)
def test_delete_with_a_credit_note_choice(api, advance_plan, option, paid, split):
    """Terminated Oct 10 (used Oct 1-10): Oct 11-31 = 21 days x $1.00 = $21.00 unused."""
    october = _october_paid(api, paid)
    params = {"on_termination_credit_note": option} if option else {}
    response = terminate(api, at(2024, 10, 10, 15), **params)
    assert response.status_code == 200
    assert response.json()["subscription"]["on_termination_credit_note"] == (option or None)
    [note] = CreditNote.objects.all()
    assert note.invoice == october and note.total_amount_cents == 2100
    assert (note.credit_amount_cents, note.refund_amount_cents, note.offset_amount_cents) == split


def test_delete_skipping_the_credit_note_and_the_invoice(api, advance_plan):
    _october_paid(api, paid=True)
    response = terminate(
        api, at(2024, 10, 10, 15), on_termination_credit_note="skip", on_termination_invoice="skip"
    )
    body = response.json()["subscription"]
    assert (body["status"], body["on_termination_invoice"]) == ("terminated", "skip")
    assert CreditNote.objects.count() == 0
    assert Invoice.objects.count() == 1  # no closing invoice
    assert run_beat(at(2024, 11, 1, 0, 5)) == []


def test_delete_skipping_the_closing_invoice_of_a_plan_in_arrears(api):
    make_plan("pro", 3100)
    subscribe(api, at(2024, 10, 1), "pro")
    terminate(api, at(2024, 10, 10, 15), on_termination_invoice="skip")
    assert Invoice.objects.count() == 0
    assert run_beat(at(2024, 11, 1, 0, 5)) == []


@pytest.mark.parametrize(
    "params",
    [{"on_termination_credit_note": "gift"}, {"on_termination_invoice": "later"}],
)
def test_delete_refuses_unknown_choices(api, advance_plan, params):
    subscribe(api, at(2024, 10, 1), "pro")
    response = terminate(api, at(2024, 10, 10), **params)
    assert response.status_code == 422
    assert response.json()["error_details"] == {next(iter(params)): ["invalid_value"]}
    assert (
        api_call(api, "get", "subscriptions/sub", at(2024, 10, 10)).json()["subscription"]["status"]
        == "active"
    )


def test_the_choice_is_kept_from_create_and_update(api, advance_plan):
    subscribe(api, at(2024, 10, 1), "pro", on_termination_credit_note="refund")
    body = {"subscription": {"on_termination_invoice": "skip"}}
    response = api_call(api, "put", "subscriptions/sub", at(2024, 10, 2), body)
    got = response.json()["subscription"]
    assert (got["on_termination_credit_note"], got["on_termination_invoice"]) == ("refund", "skip")


# --- the unique-constraint backstop ----------------------------------------------------------


def test_the_constraint_path_leaves_no_orphan_invoice(api):
    """Without the row lock and the exists check (what a race gets through), the second write of
    the same (subscription, boundary) is refused by the unique constraint and rolls back its
    invoice row too."""
    make_plan("pro", 3000)
    subscribe(api, at(2024, 4, 1), "pro")
    [subscription] = Subscription.objects.all()
    plan = plan_for(subscription, at(2024, 5, 1), "subscription_periodic")
    billing_invoice_create(plan, at(2024, 5, 1))
    with pytest.raises(AlreadyBilled):
        billing_invoice_create(plan, at(2024, 5, 1))
    assert Invoice.objects.count() == 1
    assert InvoiceSubscription.objects.count() == 1
