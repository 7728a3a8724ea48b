"""/features: create, list (search, pages), retrieve, update (Lago's partial PUT), delete,
delete a privilege; Lago's bodies and reason codes; answers checked against Lago's schemas."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from plans.models import Feature, PlanEntitlementValue, Privilege
from tests.entitlements.conftest import SEATS, SSO
from tests.entitlements.spec import spec, unexpected
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def errors(response) -> dict:
    body = response.json()
    assert (response.status_code, body["code"]) == (422, "validation_errors"), body
    return body["error_details"]


def test_create_then_retrieve(api):
    with time_machine.travel(datetime(2025, 7, 17, 12, 34, 35, tzinfo=UTC), tick=False):
        created = api.post("/api/v1/features", {"feature": SSO}, format="json")
    assert created.status_code == 200, created.content
    body = created.json()
    assert unexpected("Feature", body) == []
    assert body == {
        "feature": {
            "code": "sso",
            "name": "SSO",
            "description": None,
            "privileges": [
                {
                    "code": "provider",
                    "name": "SSO Provider",
                    "value_type": "select",
                    "config": {"select_options": ["google", "okta"]},
                },
                {"code": "label", "name": None, "value_type": "string", "config": {}},
            ],
            "created_at": "2025-07-17T12:34:35Z",
        }
    }
    assert api.get("/api/v1/features/sso").json() == body
    missing = api.get("/api/v1/features/nope")
    assert (missing.status_code, missing.json()) == (
        404,
        {"status": 404, "error": "Not Found", "code": "feature_not_found"},
    )


def test_code_is_stripped_and_unique(api, features):
    again = api.post("/api/v1/features", {"feature": {"code": " seats "}}, format="json")
    assert errors(again) == {"code": ["value_already_exist"]}
    assert errors(api.post("/api/v1/features", {"feature": {"name": "x"}}, format="json")) == {
        "code": ["value_is_mandatory"]
    }
    bad_root = api.post("/api/v1/features", {"code": "x"}, format="json")
    assert (bad_root.status_code, bad_root.json()["code"]) == (400, "bad_request")
    assert Feature.objects.count() == 2


@pytest.mark.parametrize(
    ("privileges", "details"),
    [
        (
            [{"code": "a"}, {"code": "a", "value_type": "integer"}],
            {"privilege.code": ["value_is_duplicated"]},
        ),
        ([{"code": " a"}, {"code": "a "}], {"privilege.code": ["value_is_duplicated"]}),
        ([{"code": "a", "value_type": "float"}], {"privilege.value_type": ["value_is_invalid"]}),
        ([{"code": "a", "value_type": "select"}], {"privilege.config": ["invalid_format"]}),
        (
            [{"code": "a", "value_type": "select", "config": {"select_options": []}}],
            {"privilege.config": ["invalid_format"]},
        ),
        (
            [{"code": "a", "value_type": "select", "config": {"select_options": [1]}}],
            {"privilege.config": ["invalid_format"]},
        ),
        (
            [{"code": "a", "value_type": "integer", "config": {"select_options": ["x"]}}],
            {"privilege.config": ["invalid_format"]},
        ),
        ([{"name": "no code"}], {"privilege.code": ["value_is_mandatory"]}),
        ([{"code": "a", "name": "n" * 256}], {"privilege.name": ["value_is_too_long"]}),
        ("seats", {"privileges": ["invalid_format"]}),
    ],
)
def test_privilege_rules_and_nothing_half_written(api, privileges, details):
    payload = {"feature": {"code": "f", "privileges": privileges}}
    assert errors(api.post("/api/v1/features", payload, format="json")) == details
    assert not Feature.objects.exists()
    assert not Privilege.objects.exists()


def test_feature_text_limits(api):
    payload = {"feature": {"code": "f", "name": "n" * 256, "description": "d" * 601}}
    assert errors(api.post("/api/v1/features", payload, format="json")) == {
        "name": ["value_is_too_long"],
        "description": ["value_is_too_long"],
    }


def test_list_newest_first_with_search_and_pages(api, features):
    listed = api.get("/api/v1/features").json()
    assert unexpected("FeaturesPaginated", listed) == []
    assert [f["code"] for f in listed["features"]] == ["sso", "seats"]
    assert listed["meta"]["total_count"] == 2
    found = api.get("/api/v1/features?search_term=users").json()["features"]
    assert [f["code"] for f in found] == ["seats"]
    page = api.get("/api/v1/features?per_page=1&page=2").json()
    assert [f["code"] for f in page["features"]] == ["seats"]
    assert (page["meta"]["current_page"], page["meta"]["total_pages"]) == (2, 2)


def test_put_is_partial_and_unions_select_options(api, features):
    update = {
        "feature": {
            "name": "Single sign-on",
            "privileges": [
                {"code": "provider", "config": {"select_options": ["okta", "azure"]}},
                {"code": "domains", "value_type": "integer"},
            ],
        }
    }
    updated = api.put("/api/v1/features/sso", update, format="json")
    assert updated.status_code == 200, updated.content
    body = updated.json()
    assert unexpected("Feature", body) == []
    feature = body["feature"]
    assert (feature["code"], feature["name"], feature["description"]) == (
        "sso",
        "Single sign-on",
        None,
    )
    assert [(p["code"], p["value_type"], p["config"]) for p in feature["privileges"]] == [
        ("provider", "select", {"select_options": ["google", "okta", "azure"]}),
        ("label", "string", {}),  # not sent: kept (Lago's PUT is partial)
        ("domains", "integer", {}),
    ]
    refused = api.put(
        "/api/v1/features/seats",
        {"feature": {"privileges": [{"code": "max", "config": {"select_options": ["a"]}}]}},
        format="json",
    )
    assert errors(refused) == {"privilege.config": ["invalid_format"]}
    not_a_list = {
        "feature": {"privileges": [{"code": "provider", "config": {"select_options": "x"}}]}
    }
    assert errors(api.put("/api/v1/features/sso", not_a_list, format="json")) == {
        "privilege.config": ["invalid_format"]
    }
    assert api.put("/api/v1/features/nope", {"feature": {}}, format="json").status_code == 404


def test_delete_a_privilege_and_a_feature(api, features, plan):
    api.post(
        "/api/v1/plans/pro/entitlements",
        {"entitlements": {"seats": {"max": 10, "root": True}}},
        format="json",
    )
    gone = api.delete("/api/v1/features/seats/privileges/root")
    assert gone.status_code == 200, gone.content
    assert unexpected("Feature", gone.json()) == []
    assert [p["code"] for p in gone.json()["feature"]["privileges"]] == ["max", "max_admins"]
    assert list(PlanEntitlementValue.objects.values_list("privilege__code", flat=True)) == ["max"]
    missing = api.delete("/api/v1/features/seats/privileges/root")
    assert (missing.status_code, missing.json()["code"]) == (404, "privilege_not_found")

    deleted = api.delete("/api/v1/features/seats")
    assert deleted.status_code == 200
    assert unexpected("Feature", deleted.json()) == []
    assert deleted.json()["feature"]["code"] == "seats"
    assert api.get("/api/v1/features/seats").status_code == 404
    assert api.get("/api/v1/plans/pro/entitlements").json() == {"entitlements": []}
    assert api.delete("/api/v1/features/seats").json()["code"] == "feature_not_found"
    # the code can be used again
    assert api.post("/api/v1/features", {"feature": SEATS}, format="json").status_code == 200


def test_our_openapi_schema_names_lagos_operations(client):
    schema = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    ours = {
        (method, path.removeprefix("/api/v1")): operation["operationId"]
        for path, item in schema["paths"].items()
        if "/entitlements" in path or path.startswith("/api/v1/features")
        for method, operation in item.items()
        if isinstance(operation, dict) and "operationId" in operation
    }
    lago = {
        (method, path.replace("{code}", "{x}").replace("{external_id}", "{x}")): op["operationId"]
        for path, item in (spec() or {"paths": {}})["paths"].items()
        if "/entitlements" in path or path.startswith("/features")
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    renamed = {
        (method, path.replace("{code}", "{x}").replace("{external_id}", "{x}")): name
        for (method, path), name in ours.items()
    }
    assert len(renamed) == 16
    if lago:
        assert renamed == lago


def test_the_admin_shows_features_and_plan_entitlements(api, admin_client, features, plan):
    api.post(
        "/api/v1/plans/pro/entitlements",
        {"entitlements": {"seats": {"max": 10, "root": True}}},
        format="json",
    )
    listing = admin_client.get(reverse("admin:plans_feature_changelist")).content.decode()
    assert "seats" in listing and "sso" in listing
    seats = features[0]
    page = admin_client.get(reverse("admin:plans_feature_change", args=[seats.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "max_admins" in html and "Allow root user" in html  # the privileges inline
    assert "Granted by plans" in html and ">pro<" in html
    plan_page = admin_client.get(reverse("admin:plans_plan_change", args=[plan.pk]))
    assert "max = 10, root = true" in plan_page.content.decode()


def test_feature_webhooks(api, make_endpoint):
    make_endpoint()
    api.post("/api/v1/features", {"feature": SEATS}, format="json")
    api.put("/api/v1/features/seats", {"feature": {"name": "Seats"}}, format="json")
    api.delete("/api/v1/features/seats/privileges/root")
    deleted = api.delete("/api/v1/features/seats").json()["feature"]
    bad = api.post("/api/v1/features", {"feature": {"code": "x", "name": "n" * 300}}, format="json")
    assert bad.status_code == 422  # nothing sent for it
    sent = list(WebhookDelivery.objects.order_by("id"))
    assert [(d.webhook_type, d.object_type) for d in sent] == [
        ("feature.created", "feature"),
        ("feature.updated", "feature"),
        ("feature.updated", "feature"),
        ("feature.deleted", "feature"),
    ]
    assert sent[1].payload["feature"]["name"] == "Seats"
    assert [p["code"] for p in sent[2].payload["feature"]["privileges"]] == ["max", "max_admins"]
    assert sent[3].payload == {
        "webhook_type": "feature.deleted",
        "object_type": "feature",
        "feature": deleted,
    }
