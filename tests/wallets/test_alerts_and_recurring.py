"""Depletion alerts (sent once per depletion, to a real HTTP receiver) and recurring top-ups:
interval rules on their dates, threshold rules once per crossing; reruns add nothing."""

import json
from decimal import Decimal

import pytest
import time_machine

from customers.models import RecurringTransactionRule
from customers.tasks import wallets_expire_and_recur, wallets_refresh_all
from customers.wallets import (
    wallet_balances,
    wallet_top_up,
    wallets_check_depleted,
    wallets_refresh,
    wallets_run_recurring,
)
from tests.wallets.conftest import at, balance, new_wallet, send

DEPLETED = "wallet.depleted_ongoing_balance"


def depletions(receiver) -> list[dict]:
    bodies = [json.loads(hit.body) for hit in receiver.hits]
    return [body for body in bodies if body["webhook_type"] == DEPLETED]


@pytest.mark.django_db(transaction=True)
def test_depletion_is_alerted_once_per_depletion(subscription, receiver, make_endpoint):
    make_endpoint(event_types=[DEPLETED])
    wallet = new_wallet(granted_credits="10")
    send(at(2024, 4, 5), 500)  # $5 of $10
    assert wallets_check_depleted(customer=wallet.customer, now=at(2024, 4, 6)) == []
    send(at(2024, 4, 7), 600)  # $11: the ongoing balance is gone
    assert wallet_balances(wallet, now=at(2024, 4, 8)).ongoing_balance_cents == 0
    [alerted] = wallets_check_depleted(customer=wallet.customer, now=at(2024, 4, 8))
    assert alerted.pk == wallet.pk
    assert wallets_check_depleted(customer=wallet.customer, now=at(2024, 4, 9)) == []
    [hit] = depletions(receiver)
    assert hit["object_type"] == "wallet"
    assert hit["wallet"]["lago_id"] == str(wallet.lago_id)
    assert (hit["wallet"]["ongoing_balance_cents"], hit["wallet"]["balance_cents"]) == (0, 1000)
    wallet_top_up(wallet=wallet, granted_credits="0.5")  # credits land: a new depletion may come
    assert len(wallets_check_depleted(customer=wallet.customer, now=at(2024, 4, 10))) == 1
    assert len(depletions(receiver)) == 2


@pytest.mark.django_db
def test_unfunded_wallets_are_not_alerted(subscription):
    new_wallet()  # waiting for its first paid top-up
    assert wallets_check_depleted(customer=subscription.customer, now=at(2024, 4, 2)) == []


@pytest.mark.django_db
def test_interval_rule_tops_up_on_its_dates_once(customer):
    wallet = new_wallet(
        at(2024, 1, 15),
        recurring_transaction_rules=[
            {
                "trigger": "interval",
                "interval": "monthly",
                "granted_credits": "10",
                "started_at": "2024-01-01T00:00:00Z",
            }
        ],
    )
    assert wallets_run_recurring(now=at(2024, 1, 31)) == []
    [row] = wallets_run_recurring(now=at(2024, 2, 1, 0, 30))
    assert (row.source, row.transaction_status, row.credit_amount) == ("interval", "granted", 10)
    assert wallets_run_recurring(now=at(2024, 2, 1, 1)) == []  # beat again: nothing
    assert wallets_run_recurring(now=at(2024, 2, 20)) == []
    assert len(wallets_run_recurring(now=at(2024, 3, 1, 0, 5))) == 1
    assert len(wallets_run_recurring(now=at(2024, 6, 1, 0, 5))) == 1  # missed months: one run
    assert balance(wallet) == 30
    rule = RecurringTransactionRule.objects.get()
    assert (rule.last_run_at, rule.runs) == (at(2024, 6, 1), 3)
    # a crash after the top-up but before the rule was saved: the key makes the rerun a no-op
    RecurringTransactionRule.objects.filter(pk=rule.pk).update(last_run_at=at(2024, 5, 1))
    assert [r.pk for r in wallets_run_recurring(now=at(2024, 6, 1, 0, 10))] == [
        wallet.transactions.latest("id").pk
    ]
    assert balance(wallet) == 30


@pytest.mark.django_db
def test_interval_target_rule_tops_up_to_the_target(customer):
    wallet = new_wallet(
        at(2024, 1, 15),
        granted_credits="30",
        recurring_transaction_rules=[
            {
                "trigger": "interval",
                "interval": "weekly",
                "method": "target",
                "target_ongoing_balance": "100",
                "grants_target_top_up": True,
            }
        ],
    )
    [row] = wallets_run_recurring(now=at(2024, 1, 22, 1))
    assert row.credit_amount == 70 and balance(wallet) == 100
    assert wallets_run_recurring(now=at(2024, 1, 29, 1)) == []  # at the target: nothing to add


@pytest.mark.django_db
def test_threshold_rule_fires_once_per_crossing(subscription):
    wallet = new_wallet(
        granted_credits="50",
        recurring_transaction_rules=[
            {"trigger": "threshold", "threshold_credits": "10", "granted_credits": "20"}
        ],
    )
    assert wallets_refresh(customer=wallet.customer, now=at(2024, 4, 2)) == []
    assert balance(wallet) == 50
    send(at(2024, 4, 3), 4500)  # $45: ongoing 5 credits
    wallets_refresh(customer=wallet.customer, now=at(2024, 4, 4))
    assert balance(wallet) == 70  # ongoing 25
    wallets_refresh(customer=wallet.customer, now=at(2024, 4, 5))  # above again: re-armed
    assert balance(wallet) == 70
    send(at(2024, 4, 6), 2000)  # ongoing 5 again: a second crossing
    wallets_refresh(customer=wallet.customer, now=at(2024, 4, 7))
    wallets_refresh(customer=wallet.customer, now=at(2024, 4, 8))
    assert balance(wallet) == 90
    sources = wallet.transactions.filter(source="threshold").values_list("credit_amount", flat=True)
    assert list(sources) == [Decimal(20), Decimal(20)]


@pytest.mark.django_db
def test_paid_threshold_top_up_waits_for_payment_without_firing_again(subscription):
    wallet = new_wallet(
        granted_credits="10",
        recurring_transaction_rules=[
            {"trigger": "threshold", "threshold_credits": "5", "paid_credits": "50"}
        ],
    )
    send(at(2024, 4, 3), 800)
    with time_machine.travel(at(2024, 4, 4), tick=False):
        wallets_refresh_all()  # the beat task, eager in tests
        wallets_refresh_all()
    [pending] = wallet.transactions.filter(source="threshold")
    assert (pending.status, pending.invoice.invoice_type) == ("pending", "credit")
    assert balance(wallet) == 10


@pytest.mark.django_db
def test_beat_schedules_exist():
    from django_celery_beat.models import PeriodicTask

    schedules = {
        task.task: task.interval.every
        for task in PeriodicTask.objects.filter(task__startswith="wallets.")
    }
    assert schedules == {"wallets.refresh": 300, "wallets.expire_and_recur": 3600}


@pytest.mark.django_db
def test_hourly_task_expires_and_runs_interval_rules(customer):
    expiring = new_wallet(
        at(2024, 1, 15), granted_credits="4", expiration_at="2024-02-01T00:00:00Z"
    )
    weekly = new_wallet(
        at(2024, 1, 15),
        recurring_transaction_rules=[
            {"trigger": "interval", "interval": "weekly", "granted_credits": "1"}
        ],
    )
    with time_machine.travel(at(2024, 2, 1, 1), tick=False):
        wallets_expire_and_recur()
        wallets_expire_and_recur()
    expiring.refresh_from_db()
    assert (expiring.status, balance(expiring)) == ("terminated", 0)
    assert balance(weekly) == 1  # Jan 22 and 29 were missed: one run, the latest
