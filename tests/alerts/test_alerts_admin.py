"""The admin lists of alerts and triggered alerts (read-only, for finance staff)."""

import pytest
import time_machine
from django.urls import reverse

from customers.alerts.services import alert_create
from tests.alerts.test_subscription_alerts_evaluation import send
from tests.wallets.conftest import at

pytestmark = pytest.mark.django_db(transaction=True)


def test_alert_and_triggered_alert_lists(admin_client, subscription):
    with time_machine.travel(at(2024, 4, 1, 12), tick=False):
        alert_create(
            alertable=subscription,
            data={
                "alert_type": "current_usage_amount",
                "code": "spend-watch",
                "thresholds": [{"value": 1000}, {"value": "250", "recurring": True}],
            },
        )
    send(at(2024, 4, 5), 1300)
    alerts = admin_client.get(reverse("admin:customers_usagealert_changelist"))
    page = alerts.content.decode()
    assert alerts.status_code == 200
    assert "spend-watch" in page and "subscription sub" in page
    assert "1000, 250 (recurring)" in page
    triggered = admin_client.get(reverse("admin:customers_triggeredalert_changelist"))
    page = triggered.content.decode()
    assert triggered.status_code == 200
    assert "spend-watch" in page and "cust" in page
    assert "1000.0, 1250.0 (recurring)" in page
    assert admin_client.get(reverse("admin:customers_usagealert_add")).status_code == 403
