"""/plans/{code}/entitlements: POST replaces, PATCH merges, GET lists and retrieves, DELETE
removes a feature or one privilege; values checked against their privilege's type; all or
nothing; answers checked against Lago's schemas."""

import pytest

from plans.models import PlanEntitlement, PlanEntitlementValue
from tests.entitlements.spec import unexpected

pytestmark = pytest.mark.django_db

URL = "/api/v1/plans/pro/entitlements"


def privileges(entitlement: dict) -> dict:
    return {p["code"]: p["value"] for p in entitlement["privileges"]}


def listed(api) -> dict:
    body = api.get(URL).json()
    assert unexpected("PlanEntitlements", body) == []
    return {e["code"]: privileges(e) for e in body["entitlements"]}


def test_post_creates_with_typed_values(api, features, plan):
    body = {
        "entitlements": {
            "seats": {"max": 20, "max_admins": "10", "root": "false"},
            "sso": {"provider": "okta", "label": "SAML"},
        }
    }
    created = api.post(URL, body, format="json")
    assert created.status_code == 200, created.content
    answer = created.json()
    assert unexpected("PlanEntitlements", answer) == []
    assert answer["entitlements"][0] == {
        "code": "seats",
        "name": "Number of seats",
        "description": "Users of the account",
        "privileges": [
            {"code": "max", "name": "Maximum", "value_type": "integer", "config": {}, "value": 20},
            {
                "code": "max_admins",
                "name": "Max Admins",
                "value_type": "integer",
                "config": {},
                "value": 10,
            },
            {
                "code": "root",
                "name": "Allow root user",
                "value_type": "boolean",
                "config": {},
                "value": False,
            },
        ],
    }
    assert answer["entitlements"][1]["privileges"][0] == {
        "code": "provider",
        "name": "SSO Provider",
        "value_type": "select",
        "config": {"select_options": ["google", "okta"]},
        "value": "okta",
    }
    one = api.get(f"{URL}/sso")
    assert unexpected("PlanEntitlement", one.json()) == []
    assert one.json() == {"entitlement": answer["entitlements"][1]}
    assert set(PlanEntitlementValue.objects.values_list("value", flat=True)) == {
        "20",
        "10",
        "false",
        "okta",
        "SAML",
    }


def test_post_replaces_and_patch_merges(api, features, plan):
    api.post(URL, {"entitlements": {"seats": {"max": 20, "root": True}, "sso": {}}}, format="json")
    # POST: features not sent go; a feature's privileges not sent go
    replaced = api.post(URL, {"entitlements": {"seats": {"max_admins": 3}}}, format="json")
    assert replaced.status_code == 200
    assert listed(api) == {"seats": {"max_admins": 3}}
    # PATCH: adds and updates, leaves the rest
    patched = api.patch(
        URL,
        {"entitlements": {"seats": {"max": 5}, "sso": {"provider": "google"}}},
        format="json",
    )
    assert unexpected("PlanEntitlements", patched.json()) == []
    assert listed(api) == {"seats": {"max_admins": 3, "max": 5}, "sso": {"provider": "google"}}
    # Lago: a feature sent with no privileges keeps its values, even on POST
    api.post(URL, {"entitlements": {"seats": {}}}, format="json")
    assert listed(api) == {"seats": {"max_admins": 3, "max": 5}}
    # and an empty POST clears the plan
    assert api.post(URL, {}, format="json").json() == {"entitlements": []}


@pytest.mark.parametrize(
    ("values", "status", "details"),
    [
        ({"seats": {"max": "ten"}}, 422, {"max_privilege_value": ["value_is_invalid"]}),
        ({"seats": {"max": 1.5}}, 422, {"max_privilege_value": ["value_is_invalid"]}),
        ({"seats": {"max": "007"}}, 422, {"max_privilege_value": ["value_is_invalid"]}),
        ({"seats": {"max": True}}, 422, {"max_privilege_value": ["value_is_invalid"]}),
        ({"seats": {"root": 1}}, 422, {"root_privilege_value": ["value_is_invalid"]}),
        ({"seats": {"root": "yes"}}, 422, {"root_privilege_value": ["value_is_invalid"]}),
        (
            {"sso": {"provider": "azure"}},
            422,
            {"provider_privilege_value": ["value_not_in_select_options"]},
        ),
        ({"sso": {"label": 3}}, 422, {"label_privilege_value": ["value_is_invalid"]}),
        ({"sso": {"label": None}}, 422, {"privilege.value": ["value_is_mandatory"]}),
        ({"nope": {}}, 404, "feature_not_found"),
        ({"seats": {"nope": 1}}, 404, "privilege_not_found"),
        ({"seats": {"provider": "okta"}}, 404, "privilege_not_found"),
        ({"seats": [1]}, 422, {"entitlements": ["invalid_format"]}),
    ],
)
def test_bad_values_change_nothing(api, features, plan, values, status, details):
    api.post(URL, {"entitlements": {"seats": {"max": 20}}}, format="json")
    before = listed(api)
    # the valid part comes first: it must be rolled back with the rest
    response = api.patch(URL, {"entitlements": {"seats": {"max": 30}, **values}}, format="json")
    assert response.status_code == status, response.content
    body = response.json()
    if status == 422:
        assert (body["code"], body["error_details"]) == ("validation_errors", details)
    else:
        assert body == {"status": 404, "error": "Not Found", "code": details}
    assert listed(api) == before


def test_delete_a_feature_and_a_privilege(api, features, plan):
    api.post(
        URL,
        {"entitlements": {"seats": {"max": 20, "root": True}, "sso": {"provider": "okta"}}},
        format="json",
    )
    gone = api.delete(f"{URL}/seats/privileges/root")
    assert gone.status_code == 200
    assert unexpected("PlanEntitlement", gone.json()) == []
    assert privileges(gone.json()["entitlement"]) == {"max": 20}
    again = api.delete(f"{URL}/seats/privileges/root")
    assert (again.status_code, again.json()["code"]) == (404, "privilege_not_found")
    # the privilege stays on the feature
    codes = [p["code"] for p in api.get("/api/v1/features/seats").json()["feature"]["privileges"]]
    assert "root" in codes

    removed = api.delete(f"{URL}/seats")
    assert unexpected("PlanEntitlement", removed.json()) == []
    assert privileges(removed.json()["entitlement"]) == {"max": 20}
    assert listed(api) == {"sso": {"provider": "okta"}}
    assert api.get(f"{URL}/seats").json()["code"] == "entitlement_not_found"
    assert api.delete(f"{URL}/seats").status_code == 404
    assert api.get("/api/v1/features/seats").status_code == 200  # the feature stays


def test_unknown_plan(api, features):
    for response in (
        api.get("/api/v1/plans/nope/entitlements"),
        api.post("/api/v1/plans/nope/entitlements", {"entitlements": {}}, format="json"),
        api.get("/api/v1/plans/nope/entitlements/seats"),
        api.delete("/api/v1/plans/nope/entitlements/seats/privileges/max"),
    ):
        assert (response.status_code, response.json()["code"]) == (404, "plan_not_found")
    assert not PlanEntitlement.objects.exists()


def test_the_plan_json_lists_its_entitlements(api, features, plan):
    assert api.get("/api/v1/plans/pro").json()["plan"]["entitlements"] == []
    granted = api.post(URL, {"entitlements": {"sso": {"provider": "okta"}}}, format="json")
    shown = api.get("/api/v1/plans/pro").json()
    assert shown["plan"]["entitlements"] == granted.json()["entitlements"]
    assert unexpected("PlanEntitlements", {"entitlements": shown["plan"]["entitlements"]}) == []
    listed = api.get("/api/v1/plans").json()["plans"]
    assert [p["entitlements"][0]["code"] for p in listed] == ["sso"]
