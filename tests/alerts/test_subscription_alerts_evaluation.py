"""Subscription alerts evaluated as usage arrives: ingestion flags the subscription, the
(eager) usage.process_alerts task evaluates it and sends alert.triggered to a real HTTP
receiver. Each threshold triggers once per period, whatever reruns."""

import json

import pytest
import time_machine

from customers.alerts.services import alert_create
from customers.models import AlertCrossing, AlertFlag, TriggeredAlert, UsageAlert
from invoices.services import subscription_bill_due
from tests.alerts.spec import unexpected
from tests.wallets.conftest import at
from usage.services import events_ingest
from usage.tasks import process_alerts

pytestmark = pytest.mark.django_db(transaction=True)
TRIGGERED = "alert.triggered"


def send(moment, value, metric="tokens", tag=""):
    """One event through the real ingestion, with the clock at `moment` (the eager task reads
    usage now)."""
    with time_machine.travel(moment, tick=False):
        events_ingest(
            raws=[
                {
                    "transaction_id": f"{metric}-{moment.isoformat()}-{value}{tag}",
                    "external_subscription_id": "sub",
                    "code": metric,
                    "timestamp": moment.isoformat(),
                    "properties": {"value": value},
                }
            ]
        )


def run_task(moment) -> None:
    with time_machine.travel(moment, tick=False):
        process_alerts()


def hits(receiver) -> list[dict]:
    bodies = [json.loads(hit.body) for hit in receiver.hits]
    return [body["triggered_alert"] for body in bodies if body["webhook_type"] == TRIGGERED]


def new_alert(subscription, **data):
    with time_machine.travel(at(2024, 4, 1, 12), tick=False):
        return alert_create(alertable=subscription, data=data)


def test_threshold_triggers_once_per_period_and_again_in_the_next(
    subscription, receiver, make_endpoint
):
    make_endpoint(event_types=[TRIGGERED])
    alert = new_alert(
        subscription,
        alert_type="current_usage_amount",
        code="spend",
        name="Spend",
        thresholds=[{"code": "warn", "value": 1000}, {"code": "stop", "value": 5000}],
    )
    send(at(2024, 4, 5), 600)  # $6.00
    assert hits(receiver) == []
    assert not AlertFlag.objects.exists()  # the run claimed the flag
    send(at(2024, 4, 6), 500)  # $11.00: warn crossed
    [hit] = hits(receiver)
    assert unexpected("TriggeredAlertObject", hit) == []
    assert hit["lago_alert_id"] == str(alert.lago_id)
    assert hit["lago_subscription_id"] == str(subscription.lago_id)
    assert (hit["external_subscription_id"], hit["external_customer_id"]) == ("sub", "cust")
    assert (hit["alert_code"], hit["alert_name"], hit["alert_type"]) == (
        "spend",
        "Spend",
        "current_usage_amount",
    )
    assert (hit["previous_value"], hit["current_value"]) == (600, 1100)
    assert hit["crossed_thresholds"] == [{"code": "warn", "value": "1000.0", "recurring": False}]
    assert hit["triggered_at"] == "2024-04-06T00:00:00Z"
    assert hit["billable_metric_code"] is None

    # usage falls under the threshold (a negative event) and a second batch crosses it again:
    # the same threshold in the same period does not trigger twice
    send(at(2024, 4, 7), -300)
    send(at(2024, 4, 8), 400)
    assert len(hits(receiver)) == 1
    alert.refresh_from_db()
    assert (alert.previous_value, alert.last_processed_at) == (1200, at(2024, 4, 8))

    # the task run again, or a rerun that read a stale previous value: nothing more
    run_task(at(2024, 4, 9))
    UsageAlert.objects.filter(pk=alert.pk).update(previous_value=0)
    AlertFlag.objects.create(external_subscription_id="sub")
    run_task(at(2024, 4, 9))
    run_task(at(2024, 4, 9))
    assert len(hits(receiver)) == 1
    assert TriggeredAlert.objects.count() == AlertCrossing.objects.count() == 1

    # a new period (May) starts from zero: the threshold triggers again
    send(at(2024, 5, 2), 1000)
    second = hits(receiver)[1]
    assert (second["previous_value"], second["current_value"]) == (0, 1000)
    assert second["crossed_thresholds"] == [{"code": "warn", "value": "1000.0", "recurring": False}]
    periods = list(AlertCrossing.objects.order_by("id").values_list("period_start", flat=True))
    assert periods == [at(2024, 4, 1), at(2024, 5, 1)]


def test_recurring_threshold_triggers_at_each_multiple(subscription, receiver, make_endpoint):
    make_endpoint(event_types=[TRIGGERED])
    new_alert(
        subscription,
        alert_type="current_usage_amount",
        code="spend",
        thresholds=[
            {"code": "first", "value": 1000},
            {"code": "every", "value": 500, "recurring": True},
        ],
    )
    send(at(2024, 4, 5), 1000)
    send(at(2024, 4, 6), 1100)  # $21: 1500 and 2000
    send(at(2024, 4, 7), 100)  # $22: nothing new
    send(at(2024, 4, 8), 300)  # $25: 2500
    crossed = [
        [(t["value"], t["recurring"]) for t in h["crossed_thresholds"]] for h in hits(receiver)
    ]
    assert crossed == [
        [("1000.0", False)],
        [("1500.0", True), ("2000.0", True)],
        [("2500.0", True)],
    ]
    assert [h["current_value"] for h in hits(receiver)] == [1000, 2100, 2500]


def test_billable_metric_units_and_amount(subscription, receiver, make_endpoint):
    make_endpoint(event_types=[TRIGGERED])
    new_alert(
        subscription,
        alert_type="billable_metric_current_usage_units",
        code="images",
        billable_metric_code="images",
        thresholds=[{"value": "2.5"}],
    )
    new_alert(
        subscription,
        alert_type="billable_metric_current_usage_amount",
        code="tokens-spend",
        billable_metric_code="tokens",
        thresholds=[{"value": 300}],
    )
    send(at(2024, 4, 5), 2, metric="images")  # 2 images ($2): tokens still 0
    send(at(2024, 4, 6), 1, metric="images")
    send(at(2024, 4, 7), 350)  # 350 tokens = $3.50
    found = {
        (h["alert_code"], h["billable_metric_code"], h["current_value"]) for h in hits(receiver)
    }
    assert found == {("images", "images", 3), ("tokens-spend", "tokens", 350)}
    for hit in hits(receiver):
        assert unexpected("TriggeredAlertObject", hit) == []


def test_lifetime_usage_counts_invoiced_periods(subscription, receiver, make_endpoint):
    make_endpoint(event_types=[TRIGGERED])
    new_alert(
        subscription,
        alert_type="lifetime_usage_amount",
        code="life",
        thresholds=[{"value": 1500}],
    )
    send(at(2024, 4, 10), 1000)  # $10 in April
    assert hits(receiver) == []
    with time_machine.travel(at(2024, 5, 1, 1), tick=False):
        subscription_bill_due(subscription_id=subscription.pk)  # April invoiced: $10 usage
    send(at(2024, 5, 3), 600)  # May $6: lifetime $16
    [hit] = hits(receiver)
    assert (hit["alert_type"], hit["previous_value"], hit["current_value"]) == (
        "lifetime_usage_amount",
        1000,
        1600,
    )


def test_ingestion_without_alerts_flags_nothing(subscription):
    send(at(2024, 4, 5), 600)
    assert not AlertFlag.objects.exists()
    assert not TriggeredAlert.objects.exists()


def test_a_failed_evaluation_is_flagged_again_and_a_full_batch_runs_on(subscription, monkeypatch):
    from customers.wallets import wallet_top_up
    from tests.wallets.conftest import new_wallet
    from usage import alerts

    new_alert(
        subscription, alert_type="current_usage_amount", code="spend", thresholds=[{"value": 1}]
    )
    wallet = new_wallet(granted_credits="10", code="main")
    with time_machine.travel(at(2024, 4, 1, 13), tick=False):
        alert_create(
            alertable=wallet,
            data={
                "alert_type": "wallet_balance_amount",
                "code": "low",
                "thresholds": [{"value": 1}],
            },
        )
    assert AlertFlag.objects.count() == 2  # the subscription and the wallet, flagged on create

    def broken(**kwargs):
        raise RuntimeError("usage unreadable")

    monkeypatch.setattr(alerts, "subscription_evaluate_alerts", broken)
    run_task(at(2024, 4, 2))
    assert list(AlertFlag.objects.values_list("external_subscription_id", flat=True)) == ["sub"]
    monkeypatch.undo()

    with time_machine.travel(at(2024, 4, 3), tick=False):
        wallet_top_up(wallet=wallet, voided_credits="10")  # flags the wallet again
    monkeypatch.setattr(alerts, "BATCH", 1)  # one flag per run: the task enqueues the next
    send(at(2024, 4, 4), 5)
    assert not AlertFlag.objects.exists()
    assert sorted(TriggeredAlert.objects.values_list("alert__code", flat=True)) == ["low", "spend"]
