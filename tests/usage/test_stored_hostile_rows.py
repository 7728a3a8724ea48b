"""Rows stored before the range checks (or written around them) never break a read."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from customers.services import subscription_create
from tests.factories import make_metric, make_plan
from tests.portal.world import PASSWORD, portal_user
from usage.models import Event, EventKey, UsageRollup

pytestmark = pytest.mark.django_db
NOW = datetime(2024, 3, 10, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def priced():
    tokens = make_metric("tokens", field_name="tokens")
    make_plan(
        "basic",
        0,
        charges=[
            {
                "billable_metric_id": str(tokens.lago_id),
                "charge_model": "standard",
                "properties": {"amount": "1"},
            }
        ],
    )
    return subscription_create(
        data={
            "external_customer_id": "cust",
            "plan_code": "basic",
            "external_id": "sub",
            "subscription_at": "2024-03-01T00:00:00Z",
        }
    )


def store_raw(transaction_id="bad", value=None, properties=None, **extra):
    """An event row as an old version (or a direct SQL write) may have left it."""
    moment = extra.pop("timestamp", datetime(2024, 3, 5, tzinfo=UTC))
    EventKey.objects.create(
        external_subscription_id="sub",
        transaction_id=transaction_id,
        code="tokens",
        timestamp=moment,
        fingerprint="x",
        created_at=NOW,
    )
    if value is not None:  # the hourly pre-aggregate current_usage reads, kept alongside
        UsageRollup.objects.create(
            external_subscription_id="sub",
            code="tokens",
            hour=moment,
            events_count=1,
            value_sum=value,
            value_max=value,
        )
    return Event.objects.create(
        transaction_id=transaction_id,
        external_subscription_id="sub",
        code="tokens",
        timestamp=moment,
        properties=properties or {},
        value=value,
        created_at=NOW,
        **extra,
    )


def test_an_event_with_a_huge_integer_property_is_listed_with_it_as_a_string(api, priced):
    store_raw(properties={"tokens": 10**40, "note": "ok"})
    listed = api.get("/api/v1/events")
    assert listed.status_code == 200
    assert listed.json()["events"][0]["properties"] == {"tokens": str(10**40), "note": "ok"}
    found = api.get("/api/v1/events/bad")
    assert found.status_code == 200
    assert found.json()["event"]["properties"]["tokens"] == str(10**40)


def test_current_usage_over_the_billable_range_answers_422_naming_the_amount(api, priced):
    store_raw(value=Decimal("9e24"), properties={"tokens": "9e24"})
    for path in ("current_usage", "projected_usage"):
        response = api.get(f"/api/v1/customers/cust/{path}?external_subscription_id=sub")
        assert response.status_code == 422, response.content
        assert response.json() == {
            "status": 422,
            "error": "Unprocessable Entity",
            "code": "validation_errors",
            "error_details": {"amount_cents": ["value_is_out_of_range"]},
        }


def test_the_events_admin_shows_a_stored_huge_value(admin_client, priced):
    event = store_raw(value=Decimal("9e24"), properties={"tokens": 10**40})
    changelist = admin_client.get(reverse("admin:usage_event_changelist"))
    assert changelist.status_code == 200
    assert "9,000,000,000,000,000,000,000,000" in changelist.content.decode()  # core.display
    change = admin_client.get(reverse("admin:usage_event_change", args=[event.pk]))
    assert change.status_code == 200
    assert str(10**40) in change.content.decode()


@pytest.mark.parametrize("page", ["/portal/", "/portal/usage"])
def test_the_customers_portal_pages_render_with_a_stored_huge_value(client, priced, page):
    store_raw(value=Decimal("9e24"), properties={"tokens": 10**40})
    portal_user(priced.customer, "ap@cust.example")
    login = client.post("/portal/login", {"username": "ap@cust.example", "password": PASSWORD})
    assert login.status_code == 302
    response = client.get(page, follow=True)
    assert response.status_code == 200
