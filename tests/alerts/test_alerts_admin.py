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


def test_the_beat_evaluates_alerts_every_minute():
    """The schedule the migration writes (written again here: a transactional test before this
    one may have flushed the table)."""
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    migration = importlib.import_module("usage.migrations.0004_alerts_schedule")
    migration.create_schedule(apps, None)
    migration.create_schedule(apps, None)  # idempotent
    task = PeriodicTask.objects.get(task="usage.process_alerts")
    assert (task.interval.every, task.interval.period, task.enabled) == (60, "seconds", True)
