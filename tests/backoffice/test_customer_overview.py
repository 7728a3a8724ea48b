"""The customer's page in the admin: where the customer stands, in money as finance reads it,
with the actions where they belong (issue 18, "Pages an operator lives in")."""

import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from core import roles
from invoices.models import Invoice
from tests.portal.world import build_world, frozen

pytestmark = pytest.mark.django_db
NOW = frozen(2024, 3, 15, 12)


@pytest.fixture
def world(api):
    return build_world(api, NOW)


def page(client, customer) -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("admin:customers_customer_overview", args=[customer.pk]))
    assert response.status_code == 200
    return response.content.decode()


def cell(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
    assert found, testid
    return found.group(1)


def test_usage_against_what_is_included_in_money(admin_client, world):
    html = page(admin_client, world.acme)
    # 14 days of March: gpt-4 420,000 tokens x $0.00006 = $25.20; the other 420,000 tokens
    # are inside the 1M included ($0); 14 calls x $0.001 = 1.4 cents -> 1 cent. $25.21.
    assert cell(html, "usage-total") == "$25.21"
    usage = html[html.index('data-testid="usage-acme_main"') :]
    assert "AI Pro" in html and "GPT-4 tokens" in usage
    assert ">1,000,000<" in usage  # what is included, in units
    assert "Plan fee" in usage and "$100.00" in usage


def test_what_is_owed_and_overdue_with_the_actions(admin_client, world):
    invoice = world.acme_invoice
    total = f"${invoice.total_amount_cents // 100:,}.{invoice.total_amount_cents % 100:02d}"
    Invoice.objects.filter(pk=invoice.pk).update(payment_overdue=True)
    html = page(admin_client, world.acme)
    assert cell(html, "due-USD") == total
    assert cell(html, "overdue-USD") == f"{total} overdue"
    assert html.count('data-testid="open-invoice"') == 1 and invoice.number in html
    for name, pk in (
        ("admin:invoices_invoice_credit_note", invoice.pk),
        ("admin:invoices_invoice_pdf", invoice.pk),
        ("admin:customers_wallet_top_up", world.acme.wallets.get().pk),
    ):
        assert reverse(name, args=[pk]) in html
    subscription = world.acme.subscriptions.get()
    assert reverse("admin:customers_subscription_terminate", args=[subscription.pk]) in html
    assert reverse("admin:customers_subscription_change_plan", args=[subscription.pk]) in html
    assert "Overdue</td>" in html  # the alert line
    # the $25 prepaid wallet went into March's invoice: nothing left, and said so
    assert ">Prepaid</a>" in html and '<td class="num">$0.00</td>' in html


def test_recent_events_and_only_this_customers_data(admin_client, world):
    html = page(admin_client, world.acme)
    assert "acme-now-13-call" in html  # the latest event
    assert "other_main" not in html and world.other_invoice.number not in html


def test_a_viewer_sees_the_page_without_the_actions(client, world):
    user = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.VIEWER))
    client.force_login(user)
    html = page(client, world.acme)
    assert cell(html, "usage-total") == "$25.21"
    assert "Terminate" not in html and "Top up" not in html and "Credit note</a>" not in html


def test_the_customer_list_and_page_link_to_the_overview(admin_client, world):
    url = reverse("admin:customers_customer_overview", args=[world.acme.pk])
    listing = admin_client.get(reverse("admin:customers_customer_changelist")).content.decode()
    change = admin_client.get(
        reverse("admin:customers_customer_change", args=[world.acme.pk])
    ).content.decode()
    assert url in listing and url in change


def test_the_page_reads_a_bounded_number_of_queries(
    admin_client, world, django_assert_max_num_queries
):
    with django_assert_max_num_queries(60):
        page(admin_client, world.acme)
