"""Every registered admin model: changelist, search, add and change pages load.

The demo data set gives each model at least one row, so change pages are exercised too.
"""

import re

import pytest
from django.contrib import admin
from django.urls import reverse

from backoffice.demo import demo_load
from core.models import ApiKey
from core.services import api_key_create

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def demo(db):
    """The demo data set with a tenth of its events: every model has rows, quickly."""
    for _ in demo_load(usage_scale=0.1):
        pass


@pytest.mark.parametrize(
    ("model", "model_admin"), REGISTERED, ids=[m._meta.label for m, _ in REGISTERED]
)
def test_changelist_search_add_and_change_pages_load(
    admin_client, admin_user, rf, demo, model, model_admin
):
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert admin_client.get(changelist).status_code == 200
    assert admin_client.get(changelist, {"q": "x"}).status_code == 200
    request = rf.get("/")
    request.user = admin_user
    if model_admin.has_add_permission(request):
        add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        assert admin_client.get(add).status_code == 200
    instance = model._default_manager.first()
    if instance is not None:
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[instance.pk])
        assert admin_client.get(change).status_code == 200


def test_admin_index_carries_the_product_name(admin_client):
    assert "Billing back-office" in admin_client.get("/admin/").content.decode()


def test_api_key_add_shows_raw_key_once_and_stores_hash(admin_client):
    response = admin_client.post(
        reverse("admin:core_apikey_add"), {"name": "from admin", "confirm": "on"}, follow=True
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="from admin")
    page = response.content.decode()
    assert "not shown again" in page
    raw = page.split("<code>")[1].split("</code>")[0]
    assert raw.startswith(key.prefix)
    assert raw not in key.digest


def test_revoke_action_revokes(admin_client):
    key, _ = api_key_create(name="to revoke")
    admin_client.post(
        reverse("admin:core_apikey_changelist"),
        {"action": "revoke_keys", "_selected_action": [key.pk]},
    )
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_admin_index_leads_with_billing_and_ends_with_the_login_machinery(admin_client):
    html = admin_client.get("/admin/").content.decode()
    main = html.split('id="content"')[1]  # the page, not the sidebar
    sections = re.findall(r'<caption>\s*<a href="/admin/(\w+)/"[^>]*>([^<]+)</a>', main)
    labels = [label for label, _ in sections]
    assert labels[:5] == ["customers", "invoices", "usage", "plans", "payments"]
    assert labels[-3:] == ["auth", "axes", "otp_totp"]
    names = dict(sections)
    assert [names["auth"], names["axes"], names["otp_totp"]] == [
        "Staff logins and roles",
        "Login attempts and lockouts (Axes)",
        "Two-factor devices (TOTP)",
    ]
    assert main.index(">Dashboard</a>") < main.index('href="/admin/customers/"')
    customers = main.split('href="/admin/customers/"')[1].split("</table>")[0]
    assert customers.index(">Customers<") < customers.index(">Subscriptions<")
    assert customers.index(">Subscriptions<") < customers.index(">Wallets<")
    invoices = main.split('href="/admin/invoices/"')[1].split("</table>")[0]
    assert invoices.index(">Invoices<") < invoices.index(">Credit notes<")
