"""Lago's activity logs from the audit trail: each change mapped to an ActivityLog (type,
source, user, resource, customer and subscription), Lago's filters, pages and 404s."""

import re
import uuid

import pytest
import time_machine
from django.contrib.auth import get_user_model

from core.auditing import acting_as
from core.models import AuditEntry
from core.selectors import organization_get
from customers.models import Subscription
from plans.models import Plan
from tests.core.test_dashboard import at
from tests.factories import make_plan
from tests.lago_spec import strict_schema_errors as schema_errors

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(api):
    with time_machine.travel(at(2024, 4, 30, 8), tick=False):
        plan = make_plan("basic", 1000)  # by the system (no actor)
    with time_machine.travel(at(2024, 5, 1, 9), tick=False):
        api.post(
            "/api/v1/customers",
            {"customer": {"external_id": "acme", "name": "Acme", "currency": "USD"}},
            format="json",
        )
    with time_machine.travel(at(2024, 5, 2, 9), tick=False):
        api.post(
            "/api/v1/subscriptions",
            {
                "subscription": {
                    "external_customer_id": "acme",
                    "plan_code": "basic",
                    "external_id": "sub-1",
                }
            },
            format="json",
        )
    get_user_model().objects.create(username="alice", email="alice@example.test")
    with time_machine.travel(at(2024, 5, 3, 9), tick=False), acting_as("staff:alice", "admin"):
        Plan.objects.filter(pk=plan.pk).update(name="Basic plus")
    return plan


def entry(object_type: str, action: str) -> AuditEntry:
    return AuditEntry.objects.get(object_type=object_type, action=action)


def aid(object_type: str, action: str) -> str:
    return str(uuid.UUID(int=entry(object_type, action).pk))


# The project's organization id is its primary key (as webhooks and alerts send it), and users
# and the organization have no UUID: those ids are not UUIDs.
# A user has an integer id (whatever its value in this database): its resource_id is that id.
GAPS = (r"resource_id: '\d+' is not a 'uuid'",)


def errors(schema: str, body: dict) -> list[str]:
    found = [e.split("/", 2)[-1] if "/" in e else e for e in schema_errors(schema, body)]
    return [e for e in found if not any(re.fullmatch(gap, e) for gap in GAPS)]


def test_a_subscription_created_through_the_api(api, world):
    subscription = Subscription.objects.get(external_id="sub-1")
    response = api.get(f"/api/v1/activity_logs/{aid('customers.subscription', 'updated')}")
    body = response.json()
    assert errors("ActivityLog", body) == []
    assert body["activity_log"] == {
        "activity_id": aid("customers.subscription", "updated"),
        "activity_type": "subscription.updated",
        "activity_source": "api",
        "activity_object": {
            "lago_id": str(subscription.lago_id),
            "next_billing_at": "2024-06-01T00:00:00+00:00",
        },
        "activity_object_changes": {"next_billing_at": [None, "2024-06-01T00:00:00+00:00"]},
        "user_email": None,
        "resource_id": str(subscription.lago_id),
        "resource_type": "Subscription",
        "external_customer_id": "acme",
        "external_subscription_id": "sub-1",
        "organization_id": str(organization_get().lago_id),
        "logged_at": "2024-05-02T09:00:00Z",
        "created_at": "2024-05-02T09:00:00Z",
    }


def test_a_change_by_staff_in_the_admin(api, world):
    body = api.get(f"/api/v1/activity_logs/{aid('plans.plan', 'updated')}").json()
    log = body["activity_log"]
    assert (log["activity_type"], log["activity_source"], log["user_email"]) == (
        "plan.updated",
        "front",
        "alice@example.test",
    )
    assert log["activity_object_changes"] == {"name": ["Basic", "Basic plus"]}
    assert log["activity_object"] == {"lago_id": str(world.lago_id), "name": "Basic plus"}
    assert log["resource_id"] == str(world.lago_id)


def test_personal_data_is_never_in_the_log(api, world):
    body = api.get(f"/api/v1/activity_logs/{aid('customers.customer', 'created')}").json()
    log = body["activity_log"]
    assert log["activity_object_changes"]["name"] == [None, "(personal data)"]
    assert "Acme" not in str(body)


def ids(api, **params) -> list[str]:
    body = api.get("/api/v1/activity_logs", params).json()
    assert errors("ActivityLogsPaginated", body) == []
    return [log["activity_type"] for log in body["activity_logs"]]


def test_filters_as_lago(api, world):
    may = {"from_date": "2024-05-01", "to_date": "2024-05-03"}
    assert ids(api, **may) == [
        "plan.updated",
        "subscription.updated",
        "subscription.created",
        "organization.created",
        "customer.created",
    ]
    assert ids(api, external_customer_id="acme") == [
        "subscription.updated",
        "subscription.created",
        "customer.created",
    ]
    assert ids(api, external_subscription_id="sub-1") == [
        "subscription.updated",
        "subscription.created",
    ]
    assert ids(api, **{"activity_types[]": ["plan.updated", "plan.created"]}) == [
        "plan.updated",
        "plan.created",
    ]
    assert ids(api, **{"activity_types[]": ["nothing.created"]}) == []
    assert ids(api, **{"activity_sources[]": ["front"]}) == ["plan.updated"]
    assert ids(api, **may, **{"activity_sources[]": ["api"]}) == [
        "subscription.updated",
        "subscription.created",
        "organization.created",
        "customer.created",
    ]
    system = ids(api, **{"activity_sources[]": ["system"]})
    assert sorted(system) == ["api_key.created", "plan.created", "user.created"]
    assert ids(api, **{"user_emails[]": ["alice@example.test"]}) == ["plan.updated"]
    assert ids(api, **{"resource_types[]": ["Subscription"]}) == [
        "subscription.updated",
        "subscription.created",
    ]
    assert ids(api, **{"resource_ids[]": [str(world.lago_id)]}) == ["plan.updated", "plan.created"]
    page = api.get("/api/v1/activity_logs", {**may, "per_page": 2, "page": 3}).json()
    assert [log["activity_type"] for log in page["activity_logs"]] == ["customer.created"]
    assert page["meta"] == {
        "current_page": 3,
        "next_page": None,
        "prev_page": 2,
        "total_pages": 3,
        "total_count": 5,
    }


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"activity_sources[]": "web"}, "activity_sources", "value_is_invalid"),
        ({"resource_ids[]": "x"}, "resource_ids", "value_is_invalid"),
        ({"to_date": "2024-13-01"}, "to_date", "invalid_date"),
    ],
)
def test_bad_filters_are_422(api, params, field, code):
    response = api.get("/api/v1/activity_logs", params)
    assert response.status_code == 422
    assert response.json()["error_details"] == {field: [code]}


def test_an_unknown_activity_is_404(api, world):
    for activity in ("nope", str(uuid.UUID(int=10**6)), "ffffffff-ffff-ffff-ffff-ffffffffffff"):
        response = api.get(f"/api/v1/activity_logs/{activity}")
        assert response.status_code == 404
        assert response.json() == {
            "status": 404,
            "error": "Not Found",
            "code": "activity_log_not_found",
        }


def test_a_page_costs_a_bounded_number_of_queries(api, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(14):
        api.get("/api/v1/activity_logs")
