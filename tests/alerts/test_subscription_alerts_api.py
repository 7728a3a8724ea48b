"""/subscriptions/{external_id}/alerts: create (one or a batch, all or nothing), list,
retrieve, update, delete one or all; Lago's bodies and error codes; responses checked against
Lago's OpenAPI schemas."""

import pytest

from customers.models import UsageAlert, UsageAlertThreshold
from tests.alerts.spec import unexpected

pytestmark = pytest.mark.django_db

URL = "/api/v1/subscriptions/sub/alerts"
SPEND = {
    "alert_type": "current_usage_amount",
    "code": "spend",
    "name": "Spend",
    "thresholds": [
        {"code": "warn", "value": 1000},
        {"code": "every", "value": "500", "recurring": True},
    ],
}


def errors(response) -> dict:
    body = response.json()
    assert (response.status_code, body["code"]) == (422, "validation_errors"), body
    return body["error_details"]


def test_create_list_retrieve_update_delete(api, subscription):
    created = api.post(URL, {"alert": SPEND}, format="json")
    assert created.status_code == 200, created.content
    body = created.json()
    assert unexpected("Alert", body) == []
    alert = body["alert"]
    assert alert["external_subscription_id"] == alert["subscription_external_id"] == "sub"
    assert (alert["alert_type"], alert["code"], alert["name"]) == (
        "current_usage_amount",
        "spend",
        "Spend",
    )
    assert (alert["direction"], alert["previous_value"], alert["last_processed_at"]) == (
        "increasing",
        0,
        None,
    )
    assert (alert["lago_wallet_id"], alert["wallet_code"], alert["billable_metric"]) == (
        None,
        None,
        None,
    )
    assert alert["thresholds"] == [
        {"code": "warn", "value": "1000.0", "recurring": False},
        {"code": "every", "value": "500.0", "recurring": True},
    ]

    listed = api.get(URL).json()
    assert unexpected("Alerts", listed) == []
    assert [a["code"] for a in listed["alerts"]] == ["spend"]
    assert listed["meta"]["total_count"] == 1
    assert api.get(f"{URL}/spend").json() == body

    update = {"alert": {"name": "Monthly spend", "thresholds": [{"value": "12.5"}]}}
    updated = api.put(f"{URL}/spend", update, format="json").json()["alert"]
    assert (updated["name"], updated["code"]) == ("Monthly spend", "spend")
    assert updated["thresholds"] == [{"code": None, "value": "12.5", "recurring": False}]

    deleted = api.delete(f"{URL}/spend")
    assert deleted.json()["alert"]["thresholds"] == updated["thresholds"]
    assert api.get(f"{URL}/spend").json()["code"] == "alert_not_found"
    assert UsageAlert.objects.get().deleted_at is not None  # discarded, as Lago
    assert not UsageAlertThreshold.objects.exists()


def test_batch_is_all_or_nothing(api, subscription):
    tokens = {
        "alert_type": "billable_metric_current_usage_units",
        "code": "tokens",
        "billable_metric_code": "tokens",
        "thresholds": [{"value": 100}],
    }
    lifetime = {"alert_type": "lifetime_usage_amount", "code": "life", "thresholds": [{"value": 1}]}
    bad = {**SPEND, "code": "tokens"}  # the code is taken by the first item
    response = api.post(URL, {"alerts": [tokens, lifetime, bad]}, format="json")
    assert errors(response) == {"2": {"code": ["value_already_exist"]}}
    assert not UsageAlert.objects.exists()

    response = api.post(URL, {"alerts": [tokens, lifetime]}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert unexpected("Alerts", body) == []
    assert [a["code"] for a in body["alerts"]] == ["tokens", "life"]
    assert body["alerts"][0]["billable_metric"]["code"] == "tokens"

    assert api.delete(URL).status_code == 200
    assert api.get(URL).json()["alerts"] == []


@pytest.mark.parametrize(
    ("alert", "expected"),
    [
        ({**SPEND, "alert_type": None}, {"alert_type": ["value_is_mandatory"]}),
        ({**SPEND, "alert_type": "wallet_balance_amount"}, {"alert_type": ["invalid_type"]}),
        ({**SPEND, "alert_type": "nope"}, {"alert_type": ["invalid_type"]}),
        ({**SPEND, "code": ""}, {"code": ["value_is_mandatory"]}),
        ({**SPEND, "code": "a/b"}, {"code": ["invalid_format"]}),
        ({**SPEND, "thresholds": []}, {"thresholds": ["value_is_mandatory"]}),
        (
            {**SPEND, "thresholds": [{"value": n} for n in range(21)]},
            {"thresholds": ["too_many_thresholds"]},
        ),
        (
            {**SPEND, "thresholds": [{"value": 1}, {"value": "1.0"}]},
            {"thresholds": ["duplicate_threshold_values"]},
        ),
        ({**SPEND, "thresholds": [{"code": "x"}]}, {"thresholds:value": ["value_is_mandatory"]}),
        ({**SPEND, "thresholds": [{"value": "1e"}]}, {"thresholds:value": ["value_is_invalid"]}),
        ({**SPEND, "thresholds": [{"value": -1}]}, {"thresholds:value": ["value_is_invalid"]}),
        (
            {**SPEND, "thresholds": [{"value": 0, "recurring": True}]},
            {"thresholds:value": ["recurring_value_is_negative"]},
        ),
        (
            {**SPEND, "alert_type": "billable_metric_current_usage_amount"},
            {"billable_metric": ["value_is_mandatory"]},
        ),
        ({**SPEND, "billable_metric_code": "tokens"}, {"billable_metric": ["value_must_be_blank"]}),
    ],
)
def test_invalid_alerts_are_refused_with_lagos_codes(api, subscription, alert, expected):
    assert errors(api.post(URL, {"alert": alert}, format="json")) == expected
    assert not UsageAlert.objects.exists()


def test_one_alert_per_type_and_not_found_answers(api, subscription):
    assert api.post(URL, {"alert": SPEND}, format="json").status_code == 200
    again = api.post(URL, {"alert": {**SPEND, "code": "other"}}, format="json")
    assert errors(again) == {"base": ["alert_already_exists"]}
    metric = {
        **SPEND,
        "alert_type": "billable_metric_current_usage_amount",
        "billable_metric_code": "nope",
    }
    missing = api.post(URL, {"alert": {**metric, "code": "m"}}, format="json")
    assert (missing.status_code, missing.json()["code"]) == (404, "billable_metric_not_found")
    unknown = api.post("/api/v1/subscriptions/nope/alerts", {"alert": SPEND}, format="json")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "subscription_not_found")
    assert api.get(f"{URL}/nope").status_code == 404
    assert api.post(URL, {"nothing": 1}, format="json").status_code == 400


def test_our_openapi_schema_names_lagos_operations(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    ids = {
        operation["operationId"]
        for path, item in schema["paths"].items()
        if "/alerts" in path
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    assert ids == {
        f"{verb}{owner}Alert{plural}"
        for owner in ("Subscription", "CustomerWallet")
        for verb, plural in [
            ("get", "s"),
            ("create", ""),
            ("deleteAll", "s"),
            ("get", ""),
            ("update", ""),
            ("delete", ""),
        ]
    }
