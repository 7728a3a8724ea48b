"""/customers/{external_customer_id}/wallets/{wallet_code}/alerts, and wallet alerts evaluated
when the balance moves (a void, a top-up) or usage moves the ongoing balance: once per
threshold and landing of credits."""

import json

import pytest
import time_machine

from customers.models import AlertFlag, TriggeredAlert
from customers.wallets import wallet_top_up
from tests.alerts.spec import unexpected
from tests.alerts.test_subscription_alerts_evaluation import TRIGGERED, hits, run_task, send
from tests.wallets.conftest import at, new_wallet

URL = "/api/v1/customers/cust/wallets/main/alerts"
LOW = {"alert_type": "wallet_balance_amount", "code": "low", "thresholds": [{"value": 500}]}
# Lago's TriggeredAlertObject lists only the subscription alert types and wants a subscription.
WALLET_GAPS = {
    "lago_subscription_id: None is not of type 'string'",
    "external_subscription_id: None is not of type 'string'",
}


def wallet_gaps(payload: dict) -> list[str]:
    return [
        e
        for e in unexpected("TriggeredAlertObject", payload)
        if e not in WALLET_GAPS and not e.startswith("alert_type: ")
    ]


def errors(response) -> dict:
    assert response.status_code == 422, response.content
    return response.json()["error_details"]


@pytest.mark.django_db
def test_wallet_alert_endpoints(api, customer):
    wallet = new_wallet(granted_credits="10", code="main")
    with time_machine.travel(at(2024, 4, 2), tick=False):
        created = api.post(URL, {"alert": LOW}, format="json")
    assert created.status_code == 200, created.content
    assert unexpected("WalletAlert", created.json()) == []
    alert = created.json()["alert"]
    assert (alert["lago_wallet_id"], alert["wallet_code"]) == (str(wallet.lago_id), "main")
    assert (alert["external_subscription_id"], alert["billable_metric"]) == (None, None)
    # decreasing, starting from the balance it watches (Lago), so nothing triggers at once
    assert (alert["direction"], alert["previous_value"]) == ("decreasing", 1000)
    assert alert["thresholds"] == [{"code": None, "value": "500.0", "recurring": False}]

    listed = api.get(URL).json()
    assert unexpected("WalletAlerts", listed) == []
    assert [a["code"] for a in listed["alerts"]] == ["low"]
    by_id = f"/api/v1/customers/cust/wallets/{wallet.lago_id}/alerts/low"
    assert api.get(by_id).json()["alert"]["lago_id"] == alert["lago_id"]  # lago_id accepted
    put = api.put(f"{URL}/low", {"alert": {"name": "Low balance"}}, format="json")
    assert put.json()["alert"]["name"] == "Low balance"
    assert unexpected("WalletAlert", put.json()) == []

    usage = {**LOW, "alert_type": "current_usage_amount", "code": "u"}
    assert errors(api.post(URL, {"alert": usage}, format="json")) == {
        "alert_type": ["invalid_type"]
    }
    missing = api.get("/api/v1/customers/cust/wallets/nope/alerts")
    assert (missing.status_code, missing.json()["code"]) == (404, "wallet_not_found")
    assert api.delete(f"{URL}/low").status_code == 200
    assert api.get(URL).json()["alerts"] == []


@pytest.mark.django_db(transaction=True)
def test_balance_alert_once_per_landing_of_credits(api, customer, receiver, make_endpoint):
    make_endpoint(event_types=[TRIGGERED])
    wallet = new_wallet(granted_credits="10", code="main")
    with time_machine.travel(at(2024, 4, 2), tick=False):
        assert api.post(URL, {"alert": LOW}, format="json").status_code == 200
    run_task(at(2024, 4, 2, 0, 1))  # the beat: $10 left, nothing crossed
    assert hits(receiver) == []

    with time_machine.travel(at(2024, 4, 3), tick=False):
        wallet_top_up(wallet=wallet, voided_credits="6")  # $4 left
    assert AlertFlag.objects.filter(wallet=wallet).exists()
    run_task(at(2024, 4, 3, 0, 1))
    run_task(at(2024, 4, 3, 0, 2))  # twice: once
    [hit] = hits(receiver)
    assert wallet_gaps(hit) == []
    assert (hit["lago_wallet_id"], hit["wallet_code"], hit["external_customer_id"]) == (
        str(wallet.lago_id),
        "main",
        "cust",
    )
    assert (hit["lago_subscription_id"], hit["alert_type"]) == (None, "wallet_balance_amount")
    assert (hit["previous_value"], hit["current_value"]) == (1000, 400)
    assert hit["crossed_thresholds"] == [{"code": None, "value": "500.0", "recurring": False}]

    with time_machine.travel(at(2024, 4, 4), tick=False):
        wallet_top_up(wallet=wallet, granted_credits="10")  # $14: credits landed
    run_task(at(2024, 4, 4, 0, 1))
    with time_machine.travel(at(2024, 4, 5), tick=False):
        wallet_top_up(wallet=wallet, voided_credits="10")  # $4 again
    run_task(at(2024, 4, 5, 0, 1))
    assert [h["current_value"] for h in hits(receiver)] == [400, 400]
    assert TriggeredAlert.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_ongoing_balance_alert_follows_usage(api, subscription, receiver, make_endpoint):
    make_endpoint(event_types=[TRIGGERED])
    new_wallet(granted_credits="10", code="main")
    ongoing = {**LOW, "alert_type": "wallet_ongoing_balance_amount", "code": "ongoing"}
    credits = {
        "alert_type": "wallet_credits_ongoing_balance",
        "code": "credits",
        "thresholds": [{"value": "2.5"}],
    }
    with time_machine.travel(at(2024, 4, 2), tick=False):
        body = {"alerts": [ongoing, credits]}
        assert api.post(URL, body, format="json").status_code == 200
    send(at(2024, 4, 5), 600)  # $6 of usage: the ongoing balance is $4
    [hit] = hits(receiver)
    assert (hit["alert_code"], hit["previous_value"], hit["current_value"]) == (
        "ongoing",
        1000,
        400,
    )
    send(at(2024, 4, 6), 200)  # $2 left: 2 credits
    assert [(h["alert_code"], h["current_value"]) for h in hits(receiver)] == [
        ("ongoing", 400),
        ("credits", 2),
    ]
    body = json.loads(receiver.hits[-1].body)
    assert (body["webhook_type"], body["object_type"]) == (TRIGGERED, "triggered_alert")
