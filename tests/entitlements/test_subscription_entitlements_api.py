"""/subscriptions/{external_id}/entitlements: the plan's entitlements merged with the
subscription's overrides and removals, as Lago computes them; PATCH overrides, DELETE removes a
feature or a privilege (a removal is recorded when the plan grants it); a deleted feature or
privilege is gone from plans and subscriptions alike. Answers checked against Lago's schemas."""

import pytest

from customers.models import (
    Subscription,
    SubscriptionEntitlement,
    SubscriptionEntitlementValue,
    SubscriptionFeatureRemoval,
)
from tests.entitlements.spec import unexpected

pytestmark = pytest.mark.django_db

URL = "/api/v1/subscriptions/sub/entitlements"


@pytest.fixture
def granted(api, features, subscription):
    """The plan grants seats (max 10, root true) and sso (provider google)."""
    response = api.post(
        "/api/v1/plans/pro/entitlements",
        {"entitlements": {"seats": {"max": 10, "root": True}, "sso": {"provider": "google"}}},
        format="json",
    )
    assert response.status_code == 200


def merged(response) -> dict:
    """{feature: {privilege: (value, plan_value, override_value)}}, after the schema check."""
    assert response.status_code == 200, response.content
    body = response.json()
    assert unexpected("SubscriptionEntitlements", body) == []
    return {
        e["code"]: {
            p["code"]: (p["value"], p["plan_value"], p["override_value"]) for p in e["privileges"]
        }
        for e in body["entitlements"]
    }


def test_the_plan_values_then_an_override(api, granted):
    listed = api.get(URL)
    assert merged(listed) == {
        "seats": {"max": (10, 10, None), "root": (True, True, None)},
        "sso": {"provider": ("google", "google", None)},
    }
    assert listed.json()["entitlements"][0] == {
        "code": "seats",
        "name": "Number of seats",
        "description": "Users of the account",
        "privileges": [
            {
                "code": "max",
                "name": "Maximum",
                "value_type": "integer",
                "config": {},
                "value": 10,
                "plan_value": 10,
                "override_value": None,
            },
            {
                "code": "root",
                "name": "Allow root user",
                "value_type": "boolean",
                "config": {},
                "value": True,
                "plan_value": True,
                "override_value": None,
            },
        ],
        "overrides": {},
    }
    patched = api.patch(URL, {"entitlements": {"seats": {"max": "15"}}}, format="json")
    assert merged(patched) == {
        "seats": {"max": (15, 10, 15), "root": (True, True, None)},
        "sso": {"provider": ("google", "google", None)},
    }
    assert patched.json()["entitlements"][0]["overrides"] == {"max": 15}
    # the plan itself is unchanged
    plan = api.get("/api/v1/plans/pro/entitlements/seats").json()["entitlement"]
    assert {p["code"]: p["value"] for p in plan["privileges"]} == {"max": 10, "root": True}
    # the plan's value again: no override any more
    back = api.patch(URL, {"entitlements": {"seats": {"max": 10}}}, format="json")
    assert merged(back)["seats"]["max"] == (10, 10, None)
    assert not SubscriptionEntitlementValue.objects.exists()


def test_a_plan_change_shows_through_unless_overridden(api, granted):
    api.patch(URL, {"entitlements": {"seats": {"max": 15}}}, format="json")
    api.patch(
        "/api/v1/plans/pro/entitlements",
        {"entitlements": {"seats": {"max": 12, "root": False}}},
        format="json",
    )
    assert merged(api.get(URL))["seats"] == {"max": (15, 12, 15), "root": (False, False, None)}


def test_a_feature_only_the_subscription_has(api, granted):
    api.delete("/api/v1/plans/pro/entitlements/sso")
    added = api.patch(URL, {"entitlements": {"sso": {"provider": "okta"}}}, format="json")
    # Lago sends plan_value null here (the spec's schema says otherwise: a known gap)
    assert merged(added)["sso"] == {"provider": ("okta", None, "okta")}
    assert [e["code"] for e in added.json()["entitlements"]] == ["seats", "sso"]
    assert not SubscriptionFeatureRemoval.objects.exists()
    # removing it deletes the override; nothing to record, the plan does not grant it
    removed = api.delete(f"{URL}/sso")
    assert set(merged(removed)) == {"seats"}
    assert not SubscriptionEntitlement.objects.exists()
    assert not SubscriptionFeatureRemoval.objects.exists()


def test_removing_a_plan_feature_records_a_removal_until_it_is_sent_again(api, granted):
    api.patch(URL, {"entitlements": {"seats": {"max": 15}}}, format="json")
    removed = api.delete(f"{URL}/seats")
    assert set(merged(removed)) == {"sso"}
    assert not SubscriptionEntitlement.objects.exists()  # the override went too
    removal = SubscriptionFeatureRemoval.objects.get()
    assert (removal.feature.code, removal.privilege) == ("seats", None)
    assert merged(api.delete(f"{URL}/seats")) == merged(removed)  # idempotent
    assert SubscriptionFeatureRemoval.objects.count() == 1
    # the plan still grants it to others, and the feature is still there
    assert api.get("/api/v1/plans/pro/entitlements/seats").status_code == 200
    # sending the feature again restores it, with the values sent
    restored = api.patch(URL, {"entitlements": {"seats": {"root": False}}}, format="json")
    assert merged(restored)["seats"] == {"max": (10, 10, None), "root": (False, True, False)}
    assert not SubscriptionFeatureRemoval.objects.exists()


def test_removing_a_privilege(api, granted):
    api.patch(URL, {"entitlements": {"seats": {"max": 15}}}, format="json")
    removed = api.delete(f"{URL}/seats/privileges/max")
    assert merged(removed)["seats"] == {"root": (True, True, None)}
    assert SubscriptionFeatureRemoval.objects.get().privilege.code == "max"
    # sending the privilege again brings it back
    again = api.patch(URL, {"entitlements": {"seats": {"max": 12}}}, format="json")
    assert merged(again)["seats"] == {"max": (12, 10, 12), "root": (True, True, None)}
    assert not SubscriptionFeatureRemoval.objects.exists()
    unknown = api.delete(f"{URL}/seats/privileges/nope")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "privilege_not_found")
    unknown = api.delete(f"{URL}/nope/privileges/max")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "feature_not_found")


def test_the_plan_values_sent_again_clear_overrides_and_removals(api, granted):
    api.delete(f"{URL}/seats/privileges/root")
    api.patch(URL, {"entitlements": {"seats": {"max": 15}}}, format="json")
    same = api.patch(URL, {"entitlements": {"seats": {"max": 10, "root": "true"}}}, format="json")
    assert merged(same)["seats"] == {"max": (10, 10, None), "root": (True, True, None)}
    assert not SubscriptionEntitlement.objects.exists()
    assert not SubscriptionFeatureRemoval.objects.exists()


def test_a_deleted_feature_or_privilege_is_gone_everywhere(api, granted):
    api.patch(
        URL,
        {"entitlements": {"seats": {"max": 15, "max_admins": 2}, "sso": {"provider": "okta"}}},
        format="json",
    )
    api.delete(f"{URL}/seats/privileges/root")
    assert api.delete("/api/v1/features/seats/privileges/max").status_code == 200
    assert merged(api.get(URL))["seats"] == {"max_admins": (2, None, 2)}
    assert api.delete("/api/v1/features/sso").status_code == 200
    assert set(merged(api.get(URL))) == {"seats"}
    assert [
        e["code"] for e in api.get("/api/v1/plans/pro/entitlements").json()["entitlements"]
    ] == ["seats"]
    assert api.delete("/api/v1/features/seats").status_code == 200
    assert api.get(URL).json() == {"entitlements": []}
    assert not SubscriptionEntitlement.objects.exists()
    assert not SubscriptionFeatureRemoval.objects.exists()


def test_bad_input_changes_nothing(api, granted):
    before = api.get(URL).json()
    for body, status, code in [
        ({"entitlements": {"seats": {"max": 15}, "sso": {"provider": "azure"}}}, 422, None),
        ({"entitlements": {"seats": {"max": 15}, "nope": {}}}, 404, "feature_not_found"),
        ({"entitlements": {"seats": {"max": 15, "nope": 1}}}, 404, "privilege_not_found"),
    ]:
        response = api.patch(URL, body, format="json")
        assert response.status_code == status, response.content
        if code:
            assert response.json()["code"] == code
        else:
            assert response.json()["error_details"] == {
                "provider_privilege_value": ["value_not_in_select_options"]
            }
    assert api.get(URL).json() == before
    assert not SubscriptionEntitlement.objects.exists()


def test_the_subscription_is_looked_up_by_status(api, granted, subscription):
    missing = api.get("/api/v1/subscriptions/nope/entitlements")
    assert (missing.status_code, missing.json()["code"]) == (404, "subscription_not_found")
    assert api.get(f"{URL}?subscription_status=pending").status_code == 404
    Subscription.objects.filter(pk=subscription.pk).update(status="terminated")
    assert api.get(URL).status_code == 404  # active by default, as Lago
    assert set(merged(api.get(f"{URL}?subscription_status=terminated"))) == {"seats", "sso"}


def test_an_override_plan_shows_its_parents_entitlements(api, granted, subscription, plan):
    from plans.services import plan_override_create

    child = plan_override_create(parent=plan, overrides={"amount_cents": 2000})
    Subscription.objects.filter(pk=subscription.pk).update(plan=child)
    assert merged(api.get(URL))["seats"]["max"] == (10, 10, None)


def test_the_subscription_admin_page_shows_the_merge(api, admin_client, granted, subscription):
    from django.urls import reverse

    api.patch(URL, {"entitlements": {"seats": {"max": 15}}}, format="json")
    api.delete(f"{URL}/sso")
    page = admin_client.get(reverse("admin:customers_subscription_change", args=[subscription.pk]))
    assert page.status_code == 200
    assert "seats: max = 15 (override), root = true" in page.content.decode()
