"""The demo's metrics carry a unit cost, so the dashboard's gross margin panel has numbers."""

import io

import pytest
from django.core.management import call_command

from plans.models import BillableMetric

pytestmark = pytest.mark.django_db


def test_the_demo_dashboard_shows_a_gross_margin(admin_client):
    call_command("load_demo", "--usage-scale", "0.05", stdout=io.StringIO())
    assert not BillableMetric.objects.live().filter(unit_cost__isnull=True).exists()
    page = admin_client.get("/admin/dashboard/")
    assert page.status_code == 200
    figures = page.context["figures"]
    by_metric, by_customer = figures["margin_metric"], figures["margin_customer"]
    assert by_metric and by_customer
    costs = {m.key: m.cost_cents for m in by_metric}
    assert costs["llm_tokens"] > 0 and costs["gpu_seconds"] > 0
    assert sum(m.revenue_cents for m in by_metric) > sum(costs.values()) > 0
    assert sum(m.margin_cents for m in by_metric) == sum(m.margin_cents for m in by_customer)
    margin = page.content.decode().split('id="margin"')[1].split("</section>")[0]
    assert "No metric carries a unit cost." not in margin
    assert margin.count("<tr><td>") == len(by_metric) + len(by_customer)
