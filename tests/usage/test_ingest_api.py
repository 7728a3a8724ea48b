"""POST /events and /events/batch: validation codes, idempotency, unmatched events, limits."""

from datetime import UTC, datetime

import pytest
import time_machine

from customers.services import subscription_create
from tests.factories import make_metric, make_plan
from usage.models import Event, EventKey

pytestmark = pytest.mark.django_db
NOW = datetime(2024, 3, 10, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def subscribed():
    make_metric("tokens", field_name="tokens")
    make_metric("calls", "count_agg")
    make_plan("basic")
    return subscription_create(
        data={
            "external_customer_id": "cust",
            "plan_code": "basic",
            "external_id": "sub",
            "subscription_at": "2024-03-01T00:00:00Z",
        }
    )


def _event(**overrides):
    return {
        "transaction_id": "tx1",
        "external_subscription_id": "sub",
        "code": "tokens",
        "timestamp": "1710072000",
        "properties": {"tokens": 1500},
        **overrides,
    }


def test_single_event_is_stored_with_its_value(api, subscribed):
    response = api.post("/api/v1/events", {"event": _event(precise_total_amount_cents=None)})
    assert response.status_code == 200, response.json()
    body = response.json()["event"]
    assert body["timestamp"] == "2024-03-10T12:00:00.000Z"
    assert (body["status"], body["error_code"]) == ("stored", None)
    event = Event.objects.get()
    assert event.value == 1500 and event.error_code == ""


def test_a_retry_is_counted_once_and_a_conflict_is_refused(api, subscribed):
    assert api.post("/api/v1/events", {"event": _event()}).status_code == 200
    retry = api.post("/api/v1/events", {"event": _event()})
    assert retry.status_code == 200 and retry.json()["event"]["status"] == "duplicate"
    conflict = api.post("/api/v1/events", {"event": _event(properties={"tokens": 9})})
    assert conflict.status_code == 422
    assert conflict.json()["error_details"] == {"transaction_id": ["value_already_exist"]}
    assert Event.objects.count() == 1 and EventKey.objects.count() == 1


def test_retry_without_timestamp_is_still_a_duplicate(api, subscribed):
    first = api.post("/api/v1/events", {"event": _event(timestamp=None)})
    with time_machine.travel(datetime(2024, 3, 10, 12, 5, tzinfo=UTC), tick=False):
        retry = api.post("/api/v1/events", {"event": _event(timestamp=None)})
    assert first.status_code == retry.status_code == 200
    assert retry.json()["event"]["status"] == "duplicate"


@pytest.mark.parametrize(
    ("overrides", "details"),
    [
        ({"transaction_id": None}, {"transaction_id": ["value_is_mandatory"]}),
        ({"code": ""}, {"code": ["value_is_mandatory"]}),
        ({"external_subscription_id": None}, {"external_subscription_id": ["value_is_mandatory"]}),
        ({"timestamp": "yesterday"}, {"timestamp": ["invalid_format"]}),
        ({"timestamp": "1710200000"}, {"timestamp": ["too_far_in_future"]}),
        ({"properties": ["x"]}, {"properties": ["invalid_format"]}),
        ({"properties": {"tokens": "many"}}, {"properties": ["value_is_not_valid_number"]}),
        ({"precise_total_amount_cents": "1,5"}, {"precise_total_amount_cents": ["invalid_format"]}),
    ],
)
def test_invalid_events_get_422_with_the_field(api, subscribed, overrides, details):
    response = api.post("/api/v1/events", {"event": _event(**overrides)})
    assert response.status_code == 422
    assert response.json()["error_details"] == details
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("timestamp", "expected"),
    [
        ("1710072000.789", datetime(2024, 3, 10, 12, 0, 0, 789000, tzinfo=UTC)),
        (1710072000, datetime(2024, 3, 10, 12, tzinfo=UTC)),
        ("2024-03-10T13:00:00+01:00", datetime(2024, 3, 10, 12, tzinfo=UTC)),
        (None, datetime(2024, 3, 10, 12, tzinfo=UTC)),
    ],
)
def test_timestamp_formats(api, subscribed, timestamp, expected):
    assert api.post("/api/v1/events", {"event": _event(timestamp=timestamp)}).status_code == 200
    assert Event.objects.get().timestamp == expected


def test_unknown_code_and_subscription_are_stored_and_flagged(api, subscribed):
    unknown_code = api.post("/api/v1/events", {"event": _event(code="nope")}).json()["event"]
    unknown_sub = api.post(
        "/api/v1/events", {"event": _event(transaction_id="tx2", external_subscription_id="ghost")}
    ).json()["event"]
    assert unknown_code["error_code"] == "unknown_metric"
    assert unknown_sub["error_code"] == "unknown_subscription"
    assert sorted(Event.objects.values_list("error_code", flat=True)) == [
        "unknown_metric",
        "unknown_subscription",
    ]


def test_external_customer_id_resolves_to_the_only_active_subscription(api, subscribed):
    event = _event()
    del event["external_subscription_id"]
    response = api.post("/api/v1/events", {"event": {**event, "external_customer_id": "cust"}})
    assert response.json()["event"]["external_subscription_id"] == "sub"
    make_plan("other")
    subscription_create(
        data={"external_customer_id": "cust", "plan_code": "other", "external_id": "sub2"}
    )
    ambiguous = api.post(
        "/api/v1/events",
        {"event": {**event, "transaction_id": "t9", "external_customer_id": "cust"}},
    )
    assert ambiguous.status_code == 422
    assert ambiguous.json()["error_details"] == {
        "external_customer_id": ["multiple_active_subscriptions"]
    }


def test_compact_form_with_idempotency_header(api, subscribed):
    compact = {"user_id": "cust", "event_type": "tokens", "quantity": 42, "timestamp": 1710072000}
    first = api.post("/api/v1/events", compact, HTTP_IDEMPOTENCY_KEY="req-1")
    again = api.post("/api/v1/events", compact, HTTP_IDEMPOTENCY_KEY="req-1")
    assert first.status_code == again.status_code == 200
    assert again.json()["event"]["status"] == "duplicate"
    event = Event.objects.get()
    assert (event.transaction_id, event.value, event.properties) == ("req-1", 42, {"tokens": 42})
    without_id = api.post("/api/v1/events", compact)
    assert without_id.json()["event"]["transaction_id"] != "req-1"  # server-made id


def test_batch_is_all_or_nothing_with_errors_by_index(api, subscribed):
    events = [_event(transaction_id=f"b{i}") for i in range(3)]
    events[1] = {**events[1], "code": None}
    events[2] = {**events[2], "timestamp": "bad"}
    response = api.post("/api/v1/events/batch", {"events": events})
    assert response.status_code == 422
    assert response.json()["error_details"] == {
        "1": {"code": ["value_is_mandatory"]},
        "2": {"timestamp": ["invalid_format"]},
    }
    assert not Event.objects.exists()


def test_batch_counts_duplicates_once(api, subscribed):
    events = [_event(transaction_id="a"), _event(transaction_id="b"), _event(transaction_id="a")]
    response = api.post("/api/v1/events/batch", {"events": events})
    assert [e["status"] for e in response.json()["events"]] == ["stored", "stored", "duplicate"]
    again = api.post("/api/v1/events/batch", {"events": events})
    assert {e["status"] for e in again.json()["events"]} == {"duplicate"}
    assert Event.objects.count() == 2


def test_batch_limits(api, subscribed, settings):
    settings.EVENTS_BATCH_MAX = 2
    too_many = api.post("/api/v1/events/batch", {"events": [_event()] * 3})
    assert too_many.json()["error_details"] == {"events": ["too_many_events"]}
    settings.EVENTS_MAX_BODY_BYTES = 100
    too_big = api.post("/api/v1/events/batch", {"events": [_event()]})
    assert too_big.status_code == 413
    assert too_big.json() == {
        "status": 413,
        "error": "Request Entity Too Large",
        "code": "request_too_large",
    }


def test_find_event_by_transaction_id(api, subscribed):
    api.post("/api/v1/events", {"event": _event()})
    found = api.get("/api/v1/events/tx1").json()["event"]
    assert found["code"] == "tokens" and found["properties"] == {"tokens": 1500}
    missing = api.get("/api/v1/events/nope")
    assert missing.status_code == 404 and missing.json()["code"] == "event_not_found"


def test_rate_limit_per_key(api, subscribed, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    from django.core.cache import cache

    cache.clear()
    codes = [api.get("/api/v1/events/tx1").status_code for _ in range(3)]
    assert codes == [404, 404, 429]
    limited = api.get("/api/v1/events/tx1")
    assert limited["x-ratelimit-limit"] == "2" and limited["x-ratelimit-remaining"] == "0"
    assert int(limited["x-ratelimit-reset"]) <= 60
