"""Lago's API logs: write requests to /api/v1 recorded after their response (bodies redacted
and truncated, never the Authorization header, not /events), listed with Lago's filters, and
deleted past their retention."""

from datetime import timedelta

import pytest
import time_machine

from core.models import ApiLog
from core.services import api_logs_purge
from tests.core.test_dashboard import at
from tests.lago_spec import strict_schema_errors as schema_errors

pytestmark = pytest.mark.django_db
TAX = {"tax": {"name": "VAT", "code": "vat", "rate": "20.0"}}


def test_a_write_request_is_logged_with_its_bodies(api, raw_api_key):
    with time_machine.travel(at(2024, 5, 2, 10, 30), tick=False):
        created = api.post("/api/v1/taxes", TAX, format="json", HTTP_USER_AGENT="Lago Ruby v1.26")
    assert created.status_code == 200
    [log] = ApiLog.objects.all()
    assert (log.http_method, log.http_status, log.request_path, log.client) == (
        "post",
        200,
        "/api/v1/taxes",
        "Lago Ruby v1.26",
    )
    assert log.api_key_prefix == raw_api_key[:12]
    response = api.get(f"/api/v1/api_logs/{log.request_id}")
    body = response.json()
    assert schema_errors("ApiLog", body) == []
    assert body["api_log"] == {
        "request_id": str(log.request_id),
        "client": "Lago Ruby v1.26",
        "http_method": "post",
        "http_status": 200,
        "request_origin": "http://testserver",
        "request_path": "/api/v1/taxes",
        "request_body": '{"tax":{"name":"VAT","code":"vat","rate":"20.0"}}',
        "request_response": created.content.decode(),
        "api_version": "v1",
        "logged_at": "2024-05-02T10:30:00Z",
        "created_at": "2024-05-02T10:30:00Z",
    }
    assert ApiLog.objects.count() == 1  # reads (GET) are not logged


def test_reads_events_and_requests_without_a_key_are_not_logged(api, anon_api):
    api.get("/api/v1/taxes")
    event = {"transaction_id": "t1", "external_subscription_id": "s", "code": "calls"}
    api.post("/api/v1/events", {"event": event}, format="json")
    api.post("/api/v1/events/batch", {"events": [event]}, format="json")
    anon_api.post("/api/v1/taxes", TAX, format="json")
    assert ApiLog.objects.count() == 0


def test_secrets_are_redacted_and_the_authorization_header_never_stored(api, raw_api_key):
    body = {"webhook_endpoint": {"webhook_url": "https://x.test/hook", "api_key": "sk_live_123"}}
    api.post("/api/v1/webhook_endpoints", body, format="json")
    [log] = ApiLog.objects.all()
    stored = " ".join(str(v) for v in ApiLog.objects.values().get().values())
    assert raw_api_key not in stored and "Bearer" not in stored
    assert "sk_live_123" not in log.request_body
    assert '"api_key":"[redacted]' in log.request_body


def test_bodies_are_truncated_to_the_bound(api, settings):
    settings.API_LOG_MAX_BODY_CHARS = 10
    api.post("/api/v1/taxes", TAX, format="json")
    log = ApiLog.objects.get()
    assert log.request_body == '{"tax":{"n…[truncated, 49 characters]'


def test_a_secret_cut_at_the_bound_is_still_redacted(api, settings):
    body = {"webhook_endpoint": {"webhook_url": "https://x.test/h", "password": "hunter2hunter2"}}
    settings.API_LOG_MAX_BODY_CHARS = len('{"webhook_endpoint":{"webhook_url":"https://x.test/h",')
    settings.API_LOG_MAX_BODY_CHARS += len('"password":"hunt')
    api.post("/api/v1/webhook_endpoints", body, format="json")
    log = ApiLog.objects.get()
    assert "hunt" not in log.request_body
    assert log.request_body.startswith('{"webhook_endpoint":{"webhook_url":"https://x.test/h",')
    assert '"password":"[redacted]' in log.request_body


def test_list_filters_as_lago(api):
    with time_machine.travel(at(2024, 5, 1, 9), tick=False):
        api.post("/api/v1/taxes", TAX, format="json")  # 200
    with time_machine.travel(at(2024, 5, 2, 9), tick=False):
        api.post("/api/v1/taxes", TAX, format="json")  # 422: code already taken
        api.put("/api/v1/taxes/vat", {"tax": {"rate": "10"}}, format="json")  # 200
    with time_machine.travel(at(2024, 5, 3, 9), tick=False):
        api.delete("/api/v1/taxes/nope")  # 404

    def listed(**params):
        body = api.get("/api/v1/api_logs", params).json()
        assert schema_errors("ApiLogsPaginated", body) == []
        return [(log["http_method"], log["http_status"]) for log in body["api_logs"]]

    assert listed() == [("delete", 404), ("put", 200), ("post", 422), ("post", 200)]
    assert listed(**{"http_statuses[]": ["failed"]}) == [("delete", 404), ("post", 422)]
    assert listed(**{"http_statuses[]": ["succeeded"]}) == [("put", 200), ("post", 200)]
    assert listed(**{"http_statuses[]": ["404", "422"]}) == [("delete", 404), ("post", 422)]
    assert listed(**{"http_methods[]": ["post"]}) == [("post", 422), ("post", 200)]
    assert listed(from_date="2024-05-02", to_date="2024-05-02") == [("put", 200), ("post", 422)]
    assert listed(request_paths="/api/v1/taxes/*") == [("delete", 404), ("put", 200)]
    assert listed(request_paths="/api/v1/taxes") == [("post", 422), ("post", 200)]
    assert listed(api_version="v2") == []
    page = api.get("/api/v1/api_logs", {"per_page": 3, "page": 2}).json()
    assert page["meta"] == {
        "current_page": 2,
        "next_page": None,
        "prev_page": 1,
        "total_pages": 2,
        "total_count": 4,
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"http_methods[]": "get"}, "http_methods"),
        ({"http_statuses[]": "ok"}, "http_statuses"),
        ({"from_date": "May"}, "from_date"),
    ],
)
def test_bad_filters_are_422(api, params, field):
    response = api.get("/api/v1/api_logs", params)
    assert response.status_code == 422
    assert response.json()["error_details"] == {
        field: ["invalid_date" if field == "from_date" else "value_is_invalid"]
    }


def test_an_unknown_request_id_is_404(api):
    for request_id in ("nope", "bdc0eda6-ea52-4f72-a46a-94f47a89b546"):
        response = api.get(f"/api/v1/api_logs/{request_id}")
        assert response.status_code == 404
        assert response.json() == {
            "status": 404,
            "error": "Not Found",
            "code": "api_log_not_found",
        }


def test_logs_past_the_retention_are_deleted(api, settings):
    settings.API_LOG_RETENTION_DAYS = 30
    now = at(2024, 6, 30, 12)
    for days in (31, 30, 1):
        with time_machine.travel(now - timedelta(days=days), tick=False):
            api.post("/api/v1/taxes", TAX, format="json")
    assert api_logs_purge(now=now) == 1
    assert ApiLog.objects.count() == 2
    with time_machine.travel(now, tick=False):
        from core.tasks import purge_api_logs

        purge_api_logs()
    assert ApiLog.objects.count() == 2  # exactly 30 days old stays
