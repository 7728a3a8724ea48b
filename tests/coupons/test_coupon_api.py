"""Coupons and applied coupons through the API: CRUD, Lago's rules and error codes."""

from datetime import UTC, datetime

import pytest
import time_machine

from customers.services import customer_upsert
from plans.models import AppliedCoupon, Coupon
from tests.factories import make_metric, make_plan

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.coupons.urls")]

WELCOME = {
    "name": "Welcome",
    "code": "welcome",
    "coupon_type": "fixed_amount",
    "amount_cents": 5000,
    "amount_currency": "USD",
    "frequency": "once",
    "expiration": "no_expiration",
    "reusable": False,
}


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _errors(response) -> dict:
    assert response.status_code == 422, response.json()
    return response.json()["error_details"]


def _404(response) -> str:
    assert response.status_code == 404, response.json()
    return response.json()["code"]


@pytest.fixture
def customer():
    customer, _ = customer_upsert(data={"external_id": "acme", "currency": "USD"})
    return customer


def _apply(api, **fields):
    body = {"external_customer_id": "acme", "coupon_code": "welcome", **fields}
    return api.post("/api/v1/applied_coupons", {"applied_coupon": body})


def test_coupon_crud_and_lock_once_applied(api, customer):
    created = api.post("/api/v1/coupons", {"coupon": WELCOME})
    assert created.status_code == 200
    body = created.json()["coupon"]
    assert {k: body[k] for k in ("code", "coupon_type", "amount_cents", "expiration")} == {
        "code": "welcome",
        "coupon_type": "fixed_amount",
        "amount_cents": 5000,
        "expiration": "no_expiration",
    }
    assert body["percentage_rate"] is None and body["limited_plans"] is False
    assert api.get("/api/v1/coupons/welcome").json()["coupon"] == body
    assert [c["code"] for c in api.get("/api/v1/coupons").json()["coupons"]] == ["welcome"]
    changed = api.put("/api/v1/coupons/welcome", {"coupon": {"amount_cents": 6000}})
    assert changed.json()["coupon"]["amount_cents"] == 6000  # free to change before use
    assert _apply(api).status_code == 200
    locked = api.put("/api/v1/coupons/welcome", {"coupon": {"amount_cents": 7000}})
    assert _errors(locked) == {"amount_cents": ["cannot_change_when_applied"]}
    renamed = api.put(
        "/api/v1/coupons/welcome",
        {
            "coupon": {
                "name": "Welcome!",
                "expiration": "time_limit",
                "expiration_at": "2099-01-01T00:00:00Z",
            }
        },
    ).json()["coupon"]
    assert (renamed["name"], renamed["expiration_at"]) == ("Welcome!", "2099-01-01T00:00:00Z")


def test_delete_terminates_the_coupon_and_ends_it_for_customers(api, customer):
    api.post("/api/v1/coupons", {"coupon": WELCOME})
    applied = _apply(api).json()["applied_coupon"]
    deleted = api.delete("/api/v1/coupons/welcome")
    assert deleted.status_code == 200 and deleted.json()["coupon"]["terminated_at"]
    assert _404(api.get("/api/v1/coupons/welcome")) == "coupon_not_found"
    assert AppliedCoupon.objects.get(lago_id=applied["lago_id"]).status == "terminated"
    assert api.post("/api/v1/coupons", {"coupon": WELCOME}).status_code == 200  # code free


def test_percentage_coupon_limited_to_plans_or_metrics(api):
    make_plan("pro", 1000)
    make_metric("tokens", field_name="tokens")
    percent = {
        "name": "Half",
        "code": "half",
        "coupon_type": "percentage",
        "percentage_rate": 12.5,
        "frequency": "recurring",
        "frequency_duration": 3,
        "applies_to": {"plan_codes": ["pro"]},
    }
    body = api.post("/api/v1/coupons", {"coupon": percent}).json()["coupon"]
    assert (body["percentage_rate"], body["amount_cents"]) == (
        "12.5",
        None,
    )  # a string, as Lago sends it
    assert (body["limited_plans"], body["plan_codes"]) == (True, ["pro"])
    assert body["frequency_duration"] == 3
    both = {"plan_codes": ["pro"], "billable_metric_codes": ["tokens"]}
    response = api.put("/api/v1/coupons/half", {"coupon": {"applies_to": both}})
    assert _errors(response) == {"applies_to": ["only_one_limitation_type_per_coupon_allowed"]}
    unknown = api.put("/api/v1/coupons/half", {"coupon": {"applies_to": {"plan_codes": ["x"]}}})
    assert _404(unknown) == "plan_not_found"
    metrics = {"plan_codes": [], "billable_metric_codes": ["tokens"]}
    moved = api.put("/api/v1/coupons/half", {"coupon": {"applies_to": metrics}}).json()
    assert moved["coupon"]["billable_metric_codes"] == ["tokens"]
    assert moved["coupon"]["limited_plans"] is False


@pytest.mark.parametrize(
    ("changes", "details"),
    [
        ({"name": None}, {"name": ["value_is_mandatory"]}),
        ({"code": "a b"}, {"code": ["invalid_format"]}),
        ({"coupon_type": "gift"}, {"coupon_type": ["value_is_invalid"]}),
        ({"amount_cents": 0}, {"amount_cents": ["value_is_invalid"]}),
        ({"amount_currency": "XX"}, {"amount_currency": ["value_is_invalid"]}),
        (
            {"coupon_type": "percentage", "percentage_rate": 0},
            {"percentage_rate": ["value_is_invalid"]},
        ),
        (
            {"coupon_type": "percentage", "percentage_rate": 100.5},
            {"percentage_rate": ["value_is_invalid"]},
        ),
        ({"coupon_type": "percentage"}, {"percentage_rate": ["value_is_mandatory"]}),
        ({"frequency": "recurring"}, {"frequency_duration": ["value_is_mandatory"]}),
        (
            {"frequency": "recurring", "frequency_duration": 0},
            {"frequency_duration": ["value_is_invalid"]},
        ),
        ({"expiration": "time_limit"}, {"expiration_at": ["value_is_mandatory"]}),
        (
            {"expiration": "time_limit", "expiration_at": "2001-01-01T00:00:00Z"},
            {"expiration_at": ["invalid_date"]},
        ),
        (
            {"expiration": "time_limit", "expiration_at": "soon"},
            {"expiration_at": ["invalid_format"]},
        ),
        ({"applies_to": ["pro"]}, {"applies_to": ["invalid_format"]}),
    ],
)
def test_coupon_validation_codes(api, changes, details):
    response = api.post("/api/v1/coupons", {"coupon": {**WELCOME, **changes}})
    assert _errors(response) == details
    assert not Coupon.objects.exists()


def test_apply_list_and_remove(api, customer):
    api.post("/api/v1/coupons", {"coupon": {**WELCOME, "reusable": True}})
    first = _apply(api, amount_cents=2000)
    assert first.status_code == 200, first.json()
    body = first.json()["applied_coupon"]
    assert body["lago_coupon_id"] and body["lago_customer_id"] and body["created_at"]
    assert (body["coupon_code"], body["external_customer_id"]) == ("welcome", "acme")
    assert (body["amount_cents"], body["amount_cents_remaining"]) == (2000, 2000)
    assert (body["status"], body["frequency"], body["frequency_duration_remaining"]) == (
        "active",
        "once",
        None,
    )
    second = _apply(api).json()["applied_coupon"]  # reusable: a second one
    assert second["amount_cents"] == 5000
    listed = api.get("/api/v1/applied_coupons?external_customer_id=acme&coupon_code[]=welcome")
    assert [a["lago_id"] for a in listed.json()["applied_coupons"]] == [
        second["lago_id"],
        body["lago_id"],
    ]
    removed = api.delete(f"/api/v1/customers/acme/applied_coupons/{body['lago_id']}")
    assert removed.status_code == 200
    assert removed.json()["applied_coupon"]["status"] == "terminated"
    active = api.get("/api/v1/applied_coupons?status=active").json()["applied_coupons"]
    assert [a["lago_id"] for a in active] == [second["lago_id"]]
    missing = api.delete("/api/v1/customers/acme/applied_coupons/not-a-uuid")
    assert _404(missing) == "applied_coupon_not_found"
    assert _404(api.delete(f"/api/v1/customers/ghost/applied_coupons/{body['lago_id']}")) == (
        "customer_not_found"
    )


def test_apply_rules(api, customer):
    api.post("/api/v1/coupons", {"coupon": WELCOME})  # not reusable
    assert _apply(api).status_code == 200
    assert _errors(_apply(api)) == {"coupon": ["coupon_is_not_reusable"]}
    assert _404(_apply(api, coupon_code="nope")) == "coupon_not_found"
    assert _404(_apply(api, external_customer_id="ghost")) == "customer_not_found"
    assert _errors(_apply(api, coupon_code=None)) == {"coupon_code": ["value_is_mandatory"]}
    euro = {**WELCOME, "code": "euro", "amount_currency": "EUR"}
    api.post("/api/v1/coupons", {"coupon": euro})
    assert _errors(_apply(api, coupon_code="euro")) == {"currency": ["currencies_does_not_match"]}
    override = _apply(api, coupon_code="euro", amount_currency="USD", frequency="recurring")
    assert _errors(override) == {"frequency_duration": ["value_is_mandatory"]}


def test_an_expired_coupon_cannot_be_applied(api, customer):
    limited = {
        **WELCOME,
        "expiration": "time_limit",
        "expiration_at": "2024-06-30T00:00:00Z",
    }
    with time_machine.travel(at(2024, 6, 1), tick=False):
        assert api.post("/api/v1/coupons", {"coupon": limited}).status_code == 200
    with time_machine.travel(at(2024, 7, 1), tick=False):
        assert _errors(_apply(api)) == {"coupon": ["expired"]}
        found = api.get("/api/v1/coupons/welcome").json()["coupon"]
    assert found["expiration_at"] == "2024-06-30T00:00:00Z"
