"""Every registered admin model: changelist, search, add and change pages load.

The demo data set gives each model at least one row, so change pages are exercised too.
"""

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
