"""Billable-metric expressions through the API: validation on create/update, Lago's
POST /billable_metrics/evaluate_expression (checked against Lago's OpenAPI schema), and
evaluation at ingestion into properties[field_name], single, batch and estimate."""

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from customers.services import subscription_create
from tests.factories import make_metric, make_plan, standard_charge
from usage.models import Event

pytestmark = pytest.mark.django_db

NOW = datetime(2024, 3, 10, 12, tzinfo=UTC)
SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "lago-openapi.yaml"
HOURS = "round(event.properties.seconds / 3600)"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(scope="module")
def spec() -> dict:
    if not SPEC.exists():
        pytest.skip(f"Lago's OpenAPI spec is not at {SPEC}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(SPEC.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (safe loader)


def schema_errors(spec: dict, schema: str, payload: dict) -> list[str]:
    validator = Draft202012Validator({**spec, "$ref": f"#/components/schemas/{schema}"})
    return [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(payload)]


def _metric(api, **fields):
    payload = {"name": "Hours", "code": "hours", "aggregation_type": "sum_agg", **fields}
    return api.post("/api/v1/billable_metrics", {"billable_metric": payload}, format="json")


# --- the metric ------------------------------------------------------------------------------


def test_metric_keeps_its_expression_and_matches_lagos_schema(api, spec):
    response = _metric(api, field_name="hours", expression=HOURS)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["billable_metric"]["expression"] == HOURS
    assert body["billable_metric"]["field_name"] == "hours"
    assert schema_errors(spec, "BillableMetric", body) == []
    found = api.get("/api/v1/billable_metrics/hours").json()["billable_metric"]
    assert found["expression"] == HOURS


@pytest.mark.parametrize(
    ("fields", "details"),
    [
        ({"field_name": "h", "expression": "round(event.properties.s /"}, "invalid_expression"),
        ({"field_name": "h", "expression": "sqrt(4)"}, "invalid_expression"),
        ({"field_name": "h", "expression": "__import__('os')"}, "invalid_expression"),
        ({"field_name": "h", "expression": 42}, "invalid_expression"),
        ({"field_name": "h", "expression": "x" * 1001}, "invalid_expression"),
        (
            {"aggregation_type": "count_agg", "expression": "1"},
            "not_compatible_with_aggregation_type",
        ),
    ],
)
def test_a_bad_expression_is_422_and_nothing_is_saved(api, fields, details):
    response = _metric(api, **fields)
    assert response.status_code == 422
    assert response.json()["error_details"] == {"expression": [details]}
    assert api.get("/api/v1/billable_metrics/hours").status_code == 404


def test_update_sets_validates_and_clears_the_expression(api):
    assert _metric(api, field_name="hours").json()["billable_metric"]["expression"] is None
    url = "/api/v1/billable_metrics/hours"
    bad = api.put(url, {"billable_metric": {"expression": "1 +"}}, format="json")
    assert bad.status_code == 422
    assert bad.json()["error_details"] == {"expression": ["invalid_expression"]}
    ok = api.put(url, {"billable_metric": {"expression": HOURS}}, format="json")
    assert ok.json()["billable_metric"]["expression"] == HOURS
    blank = api.put(url, {"billable_metric": {"expression": "  "}}, format="json")
    assert blank.json()["billable_metric"]["expression"] is None


def test_expression_is_locked_once_charges_use_the_metric(api):
    metric = make_metric("hours", field_name="hours", expression=HOURS)
    make_plan("basic", charges=[standard_charge(metric)])
    response = api.put(
        "/api/v1/billable_metrics/hours",
        {"billable_metric": {"expression": "event.properties.seconds"}},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["error_details"] == {
        "expression": ["cannot_change_when_used_by_charges"]
    }


# --- evaluate_expression --------------------------------------------------------------------


def _evaluate(api, body):
    return api.post("/api/v1/billable_metrics/evaluate_expression", body, format="json")


@pytest.mark.parametrize(
    ("expression", "event", "value"),
    [
        # Lago's own request spec: round("2.4") is "2.0"
        ("round(event.properties.value)", {"properties": {"value": "2.4"}}, "2.0"),
        (HOURS, {"code": "hours", "properties": {"seconds": 5400}}, "2.0"),
        ("event.properties.gb * 0.5", {"code": "s", "properties": {"gb": 3}}, "1.5"),
        ("round(event.properties.x, 1)", {"properties": {"x": 2.25}}, "2.3"),
        (
            "concat(event.code, '/', event.properties.region)",
            {"code": "s", "properties": {"region": "eu"}},
            "s/eu",
        ),
        (
            "event.timestamp",
            {"code": "s", "timestamp": 1651240791, "properties": {}},
            "1651240791.0",
        ),
        (
            "event.timestamp",
            {"code": "s", "timestamp": "1651240791", "properties": {}},
            "1651240791.0",
        ),
        (
            "event.timestamp",
            {"code": "s", "timestamp": "2024-03-10T12:00:00Z", "properties": {}},
            "1710072000.0",
        ),
        ("event.timestamp", {"code": "s", "properties": {}}, "1710072000.0"),  # now
        ("1 + 1", None, "2.0"),  # Lago: no event is an empty one
    ],
)
def test_evaluate_expression(api, spec, expression, event, value):
    body = (
        {"expression": expression} if event is None else {"expression": expression, "event": event}
    )
    response = _evaluate(api, body)
    assert response.status_code == 200, response.json()
    assert response.json() == {"expression_result": {"value": value}}
    assert schema_errors(spec, "BillableMetricEvaluateExpressionResult", response.json()) == []
    assert not Event.objects.exists()  # nothing stored


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"expression": "", "event": {}}, {"expression": ["value_is_mandatory"]}),  # Lago's spec
        ({"event": {"code": "s"}}, {"expression": ["value_is_mandatory"]}),
        ({"expression": "1 +", "event": {}}, {"expression": ["invalid_expression"]}),
        ({"expression": ["1"], "event": {}}, {"expression": ["invalid_expression"]}),
        (
            {
                "expression": "event.properties.a / event.properties.b",
                "event": {"properties": {"a": 1, "b": "0"}},
            },
            {"event": ["invalid_event", "division_by_zero"]},
        ),
        (
            {"expression": HOURS, "event": {"properties": {}}},
            {"event": ["invalid_event"], "event.properties.seconds": ["variable_not_found"]},
        ),
        (
            {"expression": "event.code * 2", "event": {"code": "abc"}},
            {"event": ["invalid_event", "expected_decimal"]},
        ),
        ({"expression": "1", "event": "nope"}, {"event": ["invalid_event"]}),
        ({"expression": "1", "event": {"properties": [1]}}, {"event": ["invalid_event"]}),
        ({"expression": "1", "event": {"timestamp": "soon"}}, {"event": ["invalid_event"]}),
        ({"expression": "1", "event": {"timestamp": "1e30"}}, {"event": ["invalid_event"]}),
    ],
)
def test_evaluate_expression_errors(api, body, details):
    response = _evaluate(api, body)
    assert response.status_code == 422, response.json()
    assert response.json()["code"] == "validation_errors"
    assert response.json()["error_details"] == details


def test_evaluate_expression_needs_a_key(anon_api):
    response = _evaluate(anon_api, {"expression": "1", "event": {}})
    assert response.status_code == 401


# --- ingestion -----------------------------------------------------------------------------


@pytest.fixture
def hours_plan():
    metric = make_metric("hours", field_name="hours", expression=HOURS)
    make_plan("basic", 0, charges=[standard_charge(metric, "2")])
    return subscription_create(
        data={
            "external_customer_id": "cust",
            "plan_code": "basic",
            "external_id": "sub",
            "subscription_at": "2024-03-01T00:00:00Z",
        }
    )


def _event(transaction_id="tx1", **properties):
    return {
        "transaction_id": transaction_id,
        "external_subscription_id": "sub",
        "code": "hours",
        "timestamp": "1710072000",
        "properties": properties,
    }


def test_ingestion_stores_the_result_under_field_name(api, hours_plan):
    response = api.post("/api/v1/events", {"event": _event(seconds=5400)}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["event"]["properties"] == {"seconds": 5400, "hours": "2.0"}
    event = Event.objects.get()
    assert event.properties == {"seconds": 5400, "hours": "2.0"}
    assert event.value == Decimal(2)
    # a retry is judged on what was sent, so it is a duplicate, not a conflict
    retry = api.post("/api/v1/events", {"event": _event(seconds=5400)}, format="json")
    assert retry.status_code == 200 and retry.json()["event"]["status"] == "duplicate"
    conflict = api.post("/api/v1/events", {"event": _event(seconds=1)}, format="json")
    assert conflict.json()["error_details"] == {"transaction_id": ["value_already_exist"]}


def test_a_sent_value_under_field_name_is_replaced_as_lago_does(api, hours_plan):
    api.post("/api/v1/events", {"event": _event(seconds=1800, hours=99)}, format="json")
    event = Event.objects.get()
    assert (event.properties["hours"], event.value) == ("1.0", Decimal(1))  # 0.5 → 1 half-up


def test_usage_sums_the_computed_values(api, hours_plan):
    batch = [_event(f"t{i}", seconds=s) for i, s in enumerate((5400, 3600, 1799, 9000))]
    response = api.post("/api/v1/events/batch", {"events": batch}, format="json")
    assert response.status_code == 200, response.json()
    assert [e["properties"]["hours"] for e in response.json()["events"]] == [
        "2.0",
        "1.0",
        "0.0",
        "3.0",
    ]
    usage = api.get("/api/v1/customers/cust/current_usage?external_subscription_id=sub").json()
    charge = usage["customer_usage"]["charges_usage"][0]
    assert (charge["units"], charge["amount_cents"]) == ("6.0", 1200)  # 6 h x $2


@pytest.mark.parametrize(
    ("properties", "details"),
    [
        (
            {},
            {
                "expression": ["expression_evaluation_failed"],
                "properties.seconds": ["variable_not_found"],
            },
        ),
        ({"seconds": "abc"}, {"expression": ["expression_evaluation_failed", "expected_decimal"]}),
    ],
)
def test_a_failing_expression_refuses_the_event(api, hours_plan, properties, details):
    single = api.post("/api/v1/events", {"event": _event(**properties)}, format="json")
    assert single.status_code == 422
    assert single.json()["error_details"] == details
    batch = api.post(
        "/api/v1/events/batch",
        {"events": [_event("ok", seconds=3600), _event("bad", **properties)]},
        format="json",
    )
    assert batch.status_code == 422
    assert batch.json()["error_details"] == {"1": details}
    assert not Event.objects.exists()  # all or nothing


def test_division_by_zero_at_ingestion(api, hours_plan):
    from plans.models import BillableMetric

    BillableMetric.objects.filter(code="hours").update(
        expression="event.properties.bytes / event.properties.seconds"
    )
    response = api.post("/api/v1/events", {"event": _event(seconds=0, bytes=10)}, format="json")
    assert response.status_code == 422
    assert response.json()["error_details"] == {
        "expression": ["expression_evaluation_failed", "division_by_zero"]
    }


def test_a_result_out_of_range_is_refused(api, hours_plan):
    response = api.post(
        "/api/v1/events", {"event": _event(seconds="3600000000000000000000")}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["error_details"] == {"properties.hours": ["value_is_out_of_range"]}


def test_estimate_fees_evaluates_the_expression(api):
    metric = make_metric("hours", field_name="hours", expression=HOURS)
    make_plan("basic", 0, charges=[standard_charge(metric, "2", pay_in_advance=True)])
    subscription_create(
        data={"external_customer_id": "cust", "plan_code": "basic", "external_id": "sub"}
    )
    response = api.post(
        "/api/v1/events/estimate_fees",
        {
            "event": {
                "external_subscription_id": "sub",
                "code": "hours",
                "properties": {"seconds": 7200},
            }
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert [(f["units"], f["amount_cents"]) for f in response.json()["fees"]] == [
        ("2.000000000000", 400)
    ]


# --- unique count over a text expression, the admin, hostile input -------------------------


def test_unique_count_of_a_concat_expression(api):
    metric = make_metric(
        "pairs",
        "unique_count_agg",
        field_name="pair",
        expression="concat(event.properties.user, '-', event.properties.app)",
    )
    make_plan("basic", 0, charges=[standard_charge(metric, "1")])
    subscription_create(
        data={
            "external_customer_id": "cust",
            "plan_code": "basic",
            "external_id": "sub",
            "subscription_at": "2024-03-01T00:00:00Z",
        }
    )
    pairs = [("u1", "a"), ("u1", "b"), ("u1", "a"), ("u2", 7)]
    events = [
        {**_event(f"p{i}", user=user, app=app), "code": "pairs"}
        for i, (user, app) in enumerate(pairs)
    ]
    response = api.post("/api/v1/events/batch", {"events": events}, format="json")
    assert [e["properties"]["pair"] for e in response.json()["events"]] == [
        "u1-a",
        "u1-b",
        "u1-a",
        "u2-7",
    ]
    usage = api.get("/api/v1/customers/cust/current_usage?external_subscription_id=sub").json()
    assert usage["customer_usage"]["charges_usage"][0]["units"] == "3.0"


def test_admin_form_refuses_an_invalid_expression(admin_client):
    from django.urls import reverse

    form = {
        "name": "Hours",
        "code": "hours",
        "description": "",
        "aggregation_type": "sum_agg",
        "field_name": "hours",
        "expression": "round(event.properties.seconds /",
        "rounding_function": "",
        "rounding_precision": "",
        "unit_cost_0": "",
        "unit_cost_1": "USD",
        "filters-TOTAL_FORMS": "0",
        "filters-INITIAL_FORMS": "0",
    }
    add = reverse("admin:plans_billablemetric_add")
    response = admin_client.post(add, form)
    assert response.status_code == 200
    assert "invalid_expression" in response.content.decode()
    response = admin_client.post(add, {**form, "expression": HOURS})
    assert response.status_code == 302
    assert api_metric_expression() == HOURS


def api_metric_expression() -> str:
    from plans.models import BillableMetric

    return BillableMetric.objects.get(code="hours").expression


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    expression=st.one_of(
        st.text(max_size=60),
        st.sampled_from(
            [
                "round(event.properties.a / event.properties.b, event.properties.c)",
                "concat(event.properties.a, event.code) * 2",
                "least(event.properties.a, event.properties.b) - event.timestamp",
                "ceil(event.properties.a, -event.properties.b)",
            ]
        ),
    ),
    properties=st.dictionaries(st.sampled_from(["a", "b", "c"]), json_values, max_size=3),
    timestamp=st.one_of(
        st.none(),
        st.integers(),
        st.text(max_size=12),
        st.floats(allow_nan=False, allow_infinity=False),
    ),
)
def test_evaluate_expression_answers_200_or_a_clean_422(api, expression, properties, timestamp):
    event = {"code": "c", "properties": properties}
    if timestamp is not None:
        event["timestamp"] = timestamp
    response = _evaluate(api, {"expression": expression, "event": event})
    assert response.status_code in (200, 422), response.content
    body = response.json()
    if response.status_code == 200:
        assert isinstance(body["expression_result"]["value"], str)
    else:
        assert body["code"] == "validation_errors"
        assert set(body["error_details"]) & {"expression", "event"}
