"""Entitlement tests: features "seats" (max, max_admins: integer; root: boolean) and "sso"
(provider: select google/okta; label: string), plan "pro" and a subscription "sub" on it."""

from datetime import UTC, datetime

import pytest
import time_machine

from customers.services import customer_upsert, subscription_create
from plans.services.features import feature_create
from tests.factories import make_plan
from tests.webhooks.conftest import make_endpoint, receiver  # noqa: F401  (fixtures)

SEATS = {
    "code": "seats",
    "name": "Number of seats",
    "description": "Users of the account",
    "privileges": [
        {"code": "max", "name": "Maximum", "value_type": "integer"},
        {"code": "max_admins", "name": "Max Admins", "value_type": "integer"},
        {"code": "root", "name": "Allow root user", "value_type": "boolean"},
    ],
}
SSO = {
    "code": "sso",
    "name": "SSO",
    "privileges": [
        {
            "code": "provider",
            "name": "SSO Provider",
            "value_type": "select",
            "config": {"select_options": ["google", "okta"]},
        },
        {"code": "label"},
    ],
}


@pytest.fixture
def features(db):
    with time_machine.travel(datetime(2025, 7, 17, 12, 0, tzinfo=UTC), tick=False):
        seats = feature_create(data=SEATS)
    with time_machine.travel(datetime(2025, 7, 17, 12, 5, tzinfo=UTC), tick=False):
        sso = feature_create(data=SSO)
    return seats, sso


@pytest.fixture
def plan(db):
    return make_plan("pro", 1000)


@pytest.fixture
def subscription(plan):
    customer_upsert(data={"external_id": "cust", "currency": "USD"})
    with time_machine.travel(datetime(2025, 8, 1, tzinfo=UTC), tick=False):
        return subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )
