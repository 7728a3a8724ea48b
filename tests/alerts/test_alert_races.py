"""Concurrent evaluations on PostgreSQL: runs racing on one alert trigger each threshold once
(the alert's row lock, and the unique (alert, value, period) constraint behind it)."""

import pytest
import time_machine

from customers.alerts.services import alert_create, alert_record_value
from customers.models import AlertCrossing, TriggeredAlert, UsageAlert
from tests.races import race
from tests.wallets.conftest import at

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_racing_evaluations_trigger_once(subscription):
    with time_machine.travel(at(2024, 4, 1, 12), tick=False):
        alert = alert_create(
            alertable=subscription,
            data={
                "alert_type": "current_usage_amount",
                "code": "spend",
                "thresholds": [{"value": 1000}, {"value": 500, "recurring": True}],
            },
        )

    def evaluate(value):
        return lambda: alert_record_value(
            alert=UsageAlert.objects.get(pk=alert.pk),
            value=value,
            period_start=at(2024, 4, 1),
            subscription=subscription,
            now=at(2024, 4, 5),
        )

    assert race([evaluate(v) for v in (1600, 1600, 1700, 1500, 1600, 1650)]) == []
    crossed = sorted(AlertCrossing.objects.values_list("value", flat=True))
    assert crossed == [1000, 1500]
    assert AlertCrossing.objects.count() == len(set(crossed))
    assert TriggeredAlert.objects.count() <= 2
