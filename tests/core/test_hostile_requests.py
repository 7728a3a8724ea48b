"""Hostile requests to /api/v1 answer a clear 4xx naming the field, and write nothing.

Each value below was seen answering 500 with a traceback (issue 14). The checks happen in
Python before the database, so these tests run on SQLite and PostgreSQL alike."""

import io
import re
from datetime import UTC, datetime

import orjson
import pytest
import time_machine
from django.urls import resolve

from core.api.json import OrjsonParser, RequestTooLarge
from customers.models import Customer
from customers.services import customer_upsert, subscription_create
from plans.models import AddOn, BillableMetric, Coupon, Feature, Plan
from taxes.models import Tax
from tests.factories import make_metric, make_plan, standard_charge
from usage.models import Event

pytestmark = pytest.mark.django_db
NOW = datetime(2024, 3, 10, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def subscribed():
    make_metric("tokens", field_name="tokens")
    make_plan("basic")
    return subscription_create(
        data={
            "external_customer_id": "cust",
            "plan_code": "basic",
            "external_id": "sub",
            "subscription_at": "2024-03-01T00:00:00Z",
        }
    )


def _validation(details: dict) -> dict:
    return {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": details,
    }


def _post(api, path: str, body: bytes):
    return api.generic("POST", path, body, content_type="application/json")


def _event(**overrides) -> dict:
    event = {
        "transaction_id": "tx1",
        "external_subscription_id": "sub",
        "code": "tokens",
        "timestamp": "2024-03-05T10:00:00Z",
        "properties": {"tokens": 5},
    }
    return event | overrides


# --- NUL characters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (_event(transaction_id="tx\x001"), "transaction_id"),
        (_event(external_subscription_id="s\x00"), "external_subscription_id"),
        (_event(code="tok\x00ens"), "code"),
        (_event(properties={"tok\x00ens": 5}), "properties.tok\\u0000ens"),
        (_event(properties={"region": ["eu", "us\x00"]}), "properties.region.1"),
    ],
)
def test_a_nul_anywhere_in_an_event_is_a_422_naming_its_path(api, subscribed, event, field):
    response = api.post("/api/v1/events", {"event": event}, format="json")
    assert response.status_code == 422
    assert response.json() == _validation({field: ["invalid_characters"]})
    assert not Event.objects.exists()


def test_a_nul_in_a_batch_names_the_event_index(api, subscribed):
    events = [_event(), _event(transaction_id="tx2", properties={"tokens": "1\x00"})]
    response = api.post("/api/v1/events/batch", {"events": events}, format="json")
    assert response.json() == _validation({"events.1.properties.tokens": ["invalid_characters"]})
    assert not Event.objects.exists()


def test_a_nul_in_a_customer_name_writes_no_customer(api):
    body = {"customer": {"external_id": "c1", "name": "Ac\x00me"}}
    response = api.post("/api/v1/customers", body, format="json")
    assert response.json() == _validation({"name": ["invalid_characters"]})
    assert not Customer.objects.exists()


def test_a_nul_in_a_url_path_is_a_422_naming_the_path_parameter(api):
    response = api.get("/api/v1/customers/c%001")
    assert response.status_code == 422
    assert response.json() == _validation({"external_id": ["invalid_characters"]})


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("external_customer_id=c%00", "external_customer_id"),
        ("status=fin%00alized", "status"),
        ("page=1%00", "page"),
        ("na%00me=1", "na\\u0000me"),
    ],
)
def test_a_nul_in_a_query_parameter_is_a_422_naming_it(api, query, field):
    response = api.get(f"/api/v1/invoices?{query}")
    assert response.status_code == 422
    assert response.json() == _validation({field: ["invalid_characters"]})


# --- nesting depth ----------------------------------------------------------------------------


def _nested(depth: int):
    value = 1
    for _ in range(depth):
        value = {"a": value}
    return value


def test_properties_nested_a_thousand_deep_are_a_422_before_any_recursion(api, subscribed):
    properties = b'{"a": ' * 1000 + b"1" + b"}" * 1000  # no encoder goes this deep
    body = orjson.dumps({"event": _event(properties="P")}).replace(b'"P"', properties)
    response = _post(api, "/api/v1/events", body)
    assert response.status_code == 422
    assert response.json() == _validation({"properties.a.a": ["nesting_too_deep"]})
    assert not Event.objects.exists()


def test_nesting_up_to_the_limit_is_accepted(api, subscribed, settings):
    settings.API_MAX_JSON_DEPTH = 5  # the body, "event", then 3 levels of properties
    accepted = api.post("/api/v1/events", {"event": _event(properties=_nested(3))})
    assert accepted.status_code == 200
    assert accepted.json()["event"]["properties"] == {"a": {"a": {"a": 1}}}
    deeper = _event(transaction_id="t2", properties=_nested(4))
    refused = api.post("/api/v1/events", {"event": deeper})
    assert refused.json() == _validation({"properties.a.a": ["nesting_too_deep"]})


def test_a_body_deeper_than_orjson_can_parse_is_a_400(api, subscribed):
    body = b'{"event": ' + b"[" * 1100 + b"]" * 1100 + b"}"
    response = _post(api, "/api/v1/events", body)
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


# --- body size --------------------------------------------------------------------------------


def test_a_customer_body_over_the_api_limit_is_a_413_and_writes_nothing(api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = {"customer": {"external_id": "c1", "name": "x" * 2000}}
    response = api.post("/api/v1/customers", body, format="json")
    assert response.status_code == 413
    assert response.json() == {
        "status": 413,
        "error": "Request Entity Too Large",
        "code": "request_too_large",
    }
    assert not Customer.objects.exists()


def test_the_events_batch_has_its_own_larger_body_limit(api, subscribed, settings):
    settings.API_MAX_BODY_BYTES = 100
    settings.EVENTS_MAX_BODY_BYTES = 10_000
    events = [_event(transaction_id=f"t{i}") for i in range(5)]
    response = api.post("/api/v1/events/batch", {"events": events}, format="json")
    assert response.status_code == 200
    assert Event.objects.count() == 5


def test_a_body_streamed_without_a_length_is_held_to_the_bytes_actually_read(settings):
    """Chunked uploads carry no Content-Length: the parser reads at most the limit plus one."""
    settings.API_MAX_BODY_BYTES = 1000
    body = b'{"customer": {"external_id": "c1", "name": "' + b"x" * 5000 + b'"}}'
    with pytest.raises(RequestTooLarge):
        OrjsonParser().parse(io.BytesIO(body), parser_context={"view": None})
    small = b'{"customer": {"external_id": "c1"}}'
    assert OrjsonParser().parse(io.BytesIO(small)) == {"customer": {"external_id": "c1"}}


# --- dates, ids -------------------------------------------------------------------------------


def test_an_impossible_timestamp_filter_is_a_422_invalid_date(api):
    response = api.get("/api/v1/events?timestamp_from=2026-13-45T99:99:99Z")
    assert response.status_code == 422
    assert response.json() == _validation({"timestamp_from": ["invalid_date"]})
    response = api.get("/api/v1/events?timestamp_to=yesterday")
    assert response.json() == _validation({"timestamp_to": ["invalid_date"]})


def test_a_valid_timestamp_filter_still_filters(api, subscribed):
    api.post("/api/v1/events", {"event": _event()}, format="json")
    after = api.get("/api/v1/events?timestamp_from=2024-03-05T10:00:01Z").json()
    assert after["events"] == []
    before = api.get("/api/v1/events?timestamp_from=2024-03-05T10:00:00").json()
    assert [e["transaction_id"] for e in before["events"]] == ["tx1"]


def test_an_impossible_issuing_date_filter_is_a_422_invalid_date(api):
    response = api.get("/api/v1/invoices?issuing_date_from=2026-02-30")
    assert response.status_code == 422
    assert response.json() == _validation({"issuing_date_from": ["invalid_date"]})
    response = api.get("/api/v1/invoices?issuing_date_to=2026-02-28")
    assert response.json()["invoices"] == []


def test_a_subscription_at_with_minute_75_is_a_422_and_creates_nothing(api, subscribed):
    body = {
        "subscription": {
            "external_customer_id": "cust2",
            "plan_code": "basic",
            "external_id": "sub2",
            "subscription_at": "2024-03-01T10:75:00Z",
        }
    }
    response = api.post("/api/v1/subscriptions", body, format="json")
    assert response.status_code == 422
    assert response.json() == _validation({"subscription_at": ["invalid_format"]})
    assert not Customer.objects.filter(external_id="cust2").exists()


def test_a_credit_note_estimate_for_a_non_uuid_invoice_is_not_found(api):
    body = {"credit_note": {"invoice_id": "not-a-uuid\\u0000", "items": [{"fee_id": "x"}]}}
    response = api.post("/api/v1/credit_notes/estimate", body, format="json")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "error": "Not Found", "code": "invoice_not_found"}


# --- every route ------------------------------------------------------------------------------


def _api_routes() -> list[tuple[str, str]]:
    """(name, path) of every /api/v1 route, URL parameters filled with `x`."""
    from billing_site.api_urls import urlpatterns

    routes = []
    for pattern in urlpatterns:
        regex = pattern.pattern.regex.pattern.lstrip("^").rstrip("$").replace("\\Z", "")
        path = re.sub(r"\(\?P<\w+>[^)]*\)", "x", regex).replace("\\.", ".")
        if "(" not in path and "\\" not in path:
            routes.append((pattern.name, f"/api/v1/{path}"))
    return routes


def test_every_route_is_listed():
    names = {name for name, _ in _api_routes()}
    assert len(names) >= 40
    assert {"customer-list", "event-batch", "credit_note-estimate"} <= names


@pytest.mark.parametrize(("name", "path"), _api_routes())
def test_options_answers_every_route_with_its_methods(api, name, path):
    response = api.options(path)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"name", "allowed_methods", "renders", "parses"}
    assert "OPTIONS" in body["allowed_methods"]
    assert body["renders"] == ["application/json"] and body["parses"] == ["application/json"]


def _parents_named_x() -> None:
    """Plan "x" with a charge "x" (and a filter), subscription "x" on it: the parents of the
    nested lists (/plans/x/charges/x/filters, /subscriptions/x/charges...)."""
    metric = make_metric("x_metric", filters=[{"key": "model", "values": ["a"]}])
    charge = standard_charge(
        metric, code="x", filters=[{"values": {"model": ["a"]}, "properties": {"amount": "1"}}]
    )
    make_plan("x", charges=[charge])
    subscription_create(data={"external_customer_id": "c", "plan_code": "x", "external_id": "x"})


LIST_ROUTES = [
    (name, path)
    for name, path in _api_routes()
    if name.endswith("-list") and "get" in resolve(path).func.actions
]


@pytest.mark.parametrize("page", ["99999999999999999999", "9" * 5000, "-3", "abc", "1_0", "0"])
@pytest.mark.parametrize(("name", "path"), LIST_ROUTES)
def test_every_list_answers_a_hostile_page_without_an_error(api, name, path, page):
    customer_upsert(data={"external_id": "c"})  # wallets are listed per customer
    if "/x" in path:  # a nested list: its parents are named "x" (plan, charge, subscription)
        _parents_named_x()
    response = api.get(path, {"page": page, "per_page": page, "external_customer_id": "c"})
    assert response.status_code == 200, response.content
    body = response.json()
    meta, rows = body["meta"], body[next(key for key in body if key != "meta")]
    huge = page.startswith("9")
    if meta["total_count"] == 0:  # page 0 of 0, as Lago
        assert (meta["current_page"], rows) == (0, [])
    elif huge:  # clamped to just past the last page, empty
        assert (meta["current_page"], meta["prev_page"], rows) == (2, 1, [])
    else:  # not a positive integer: the defaults, page 1 of 100 rows
        assert (meta["current_page"], len(rows)) == (1, meta["total_count"])


# --- text lengths -----------------------------------------------------------------------------

LONG = "é" * 256  # 256 characters (512 bytes): one over every 255-character column

CREATES = [
    ("customers", "customer", {"external_id": "c1", "name": LONG}, "name", Customer),
    ("customers", "customer", {"external_id": "c1", "city": LONG}, "city", Customer),
    ("customers", "customer", {"external_id": "c1", "zipcode": "9" * 65}, "zipcode", Customer),
    (
        "billable_metrics",
        "billable_metric",
        {"name": LONG, "code": "m", "aggregation_type": "count_agg"},
        "name",
        BillableMetric,
    ),
    (
        "plans",
        "plan",
        {
            "name": "P",
            "invoice_display_name": LONG,
            "code": "p",
            "interval": "monthly",
            "amount_cents": 100,
            "amount_currency": "USD",
        },
        "invoice_display_name",
        Plan,
    ),
    (
        "add_ons",
        "add_on",
        {"name": LONG, "code": "a", "amount_cents": 1, "amount_currency": "USD"},
        "name",
        AddOn,
    ),
    (
        "coupons",
        "coupon",
        {
            "name": LONG,
            "code": "w",
            "coupon_type": "fixed_amount",
            "amount_cents": 5,
            "amount_currency": "USD",
            "frequency": "once",
            "expiration": "no_expiration",
        },
        "name",
        Coupon,
    ),
    ("taxes", "tax", {"name": LONG, "code": "vat", "rate": 20}, "name", Tax),
    ("features", "feature", {"name": LONG, "code": "seats"}, "name", Feature),
]


@pytest.mark.parametrize(("path", "root", "payload", "field", "model"), CREATES)
def test_a_value_longer_than_its_column_is_a_422_value_is_too_long(
    api, path, root, payload, field, model
):
    response = api.post(f"/api/v1/{path}", {root: payload}, format="json")
    assert response.status_code == 422
    assert response.json() == _validation({field: ["value_is_too_long"]})
    assert not model.objects.exists()


def test_a_value_exactly_as_long_as_its_column_is_stored(api):
    body = {"customer": {"external_id": "c1", "name": LONG[:255]}}
    assert api.post("/api/v1/customers", body, format="json").status_code == 200
    assert Customer.objects.get().name == LONG[:255]


def test_a_long_name_on_update_keeps_the_stored_customer(api):
    customer_upsert(data={"external_id": "c1", "name": "Acme"})
    body = {"customer": {"external_id": "c1", "name": LONG, "city": "Paris"}}
    response = api.post("/api/v1/customers", body, format="json")
    assert response.json() == _validation({"name": ["value_is_too_long"]})
    stored = Customer.objects.get()
    assert (stored.name, stored.city) == ("Acme", "")


def test_a_long_subscription_name_creates_neither_customer_nor_subscription(api, subscribed):
    body = {
        "subscription": {
            "external_customer_id": "cust2",
            "plan_code": "basic",
            "external_id": "sub2",
            "name": LONG,
        }
    }
    response = api.post("/api/v1/subscriptions", body, format="json")
    assert response.json() == _validation({"name": ["value_is_too_long"]})
    assert not Customer.objects.filter(external_id="cust2").exists()


DETAIL_ROUTES = [
    (name, path)
    for name, path in _api_routes()
    if "/x" in path and "get" in resolve(path).func.actions
]


@pytest.mark.parametrize(("name", "path"), DETAIL_ROUTES)
def test_every_route_with_an_id_that_names_nothing_is_a_json_404(api, name, path):
    """`x` is no UUID, code or external id: a 404 in Lago's shape, never a database error."""
    response = api.get(path)
    assert response.status_code == 404, response.content
    assert response.json()["code"].endswith("_not_found")
