"""Add-ons through the API: create, find, list, update, delete, and Lago's error codes."""

import pytest

from plans.models import AddOn

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.addons.urls")]

GPU_PACK = {
    "name": "GPU pack 10h",
    "code": "gpu_pack_10h",
    "amount_cents": 25000,
    "amount_currency": "usd",
    "description": "Ten A100 hours",
    "tax_codes": [],
}


def _errors(response) -> dict:
    assert response.status_code == 422, response.json()
    return response.json()["error_details"]


def test_create_find_list_update_delete(api):
    created = api.post("/api/v1/add_ons", {"add_on": GPU_PACK})
    assert created.status_code == 200
    body = created.json()["add_on"]
    assert body["code"] == "gpu_pack_10h"
    assert (body["amount_cents"], body["amount_currency"]) == (25000, "USD")
    assert body["invoice_display_name"] is None and body["taxes"] == []
    assert body["lago_id"] and body["created_at"].endswith("Z")
    found = api.get("/api/v1/add_ons/gpu_pack_10h").json()["add_on"]
    assert found == body
    listed = api.get("/api/v1/add_ons").json()
    assert [a["code"] for a in listed["add_ons"]] == ["gpu_pack_10h"]
    assert listed["meta"]["total_count"] == 1
    updated = api.put(
        "/api/v1/add_ons/gpu_pack_10h",
        {"add_on": {"amount_cents": 30000, "invoice_display_name": "GPU hours", "name": None}},
    ).json()["add_on"]
    assert (updated["amount_cents"], updated["invoice_display_name"]) == (30000, "GPU hours")
    assert updated["name"] == "GPU pack 10h"  # null means absent
    deleted = api.delete("/api/v1/add_ons/gpu_pack_10h")
    assert deleted.status_code == 200 and deleted.json()["add_on"]["code"] == "gpu_pack_10h"
    missing = api.get("/api/v1/add_ons/gpu_pack_10h")
    assert missing.status_code == 404 and missing.json()["code"] == "add_on_not_found"
    again = api.post("/api/v1/add_ons", {"add_on": GPU_PACK})  # a deleted code is free again
    assert again.status_code == 200
    assert AddOn.objects.filter(code="gpu_pack_10h").count() == 2


@pytest.mark.parametrize(
    ("changes", "details"),
    [
        ({"name": ""}, {"name": ["value_is_mandatory"]}),
        ({"code": "gpu pack"}, {"code": ["invalid_format"]}),
        ({"amount_cents": -1}, {"amount_cents": ["value_is_invalid"]}),
        ({"amount_cents": "12"}, {"amount_cents": ["value_is_invalid"]}),
        ({"amount_currency": "XYZ"}, {"amount_currency": ["value_is_invalid"]}),
        ({"tax_codes": "vat"}, {"tax_codes": ["invalid_format"]}),
    ],
)
def test_validation_codes(api, changes, details):
    assert _errors(api.post("/api/v1/add_ons", {"add_on": {**GPU_PACK, **changes}})) == details


def test_missing_fields_duplicate_code_and_root_key(api):
    response = api.post("/api/v1/add_ons", {"add_on": {"name": "X", "code": "x"}})
    assert _errors(response) == {
        "amount_cents": ["value_is_mandatory"],
        "amount_currency": ["value_is_mandatory"],
    }
    api.post("/api/v1/add_ons", {"add_on": GPU_PACK})
    duplicate = api.post("/api/v1/add_ons", {"add_on": GPU_PACK})
    assert _errors(duplicate) == {"code": ["value_already_exist"]}
    no_root = api.post("/api/v1/add_ons", {"name": "x"})
    assert no_root.status_code == 400
    put_missing = api.put("/api/v1/add_ons/nope", {"add_on": {"name": "N"}})
    assert put_missing.status_code == 404 and put_missing.json()["code"] == "add_on_not_found"
