"""NUL characters in the admin and the portal: refused before the database (PostgreSQL cannot
take NUL in a text parameter, `?q=%00` answered 500 in the changelist search)."""

import pytest
from django.contrib import admin
from django.urls import reverse

from customers.models import Customer
from customers.services import customer_upsert

pytestmark = pytest.mark.django_db

CHANGELISTS = sorted(
    f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"
    for model in admin.site._registry
)


@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_a_nul_in_any_changelist_search_is_a_400(admin_client, changelist):
    response = admin_client.get(reverse(changelist), {"q": "ac\x00me"})
    assert response.status_code == 400
    assert response.content == b"NUL characters are not allowed."


def test_a_nul_in_a_changelist_filter_is_a_400(admin_client):
    changelist = reverse("admin:customers_customer_changelist")
    response = admin_client.get(changelist, {"currency": "\x00"})
    assert response.status_code == 400


def test_the_changelist_search_still_finds_without_nul(admin_client):
    customer_upsert(data={"external_id": "acme-1", "name": "Acme"})
    response = admin_client.get(reverse("admin:customers_customer_changelist"), {"q": "acme"})
    assert response.status_code == 200 and "acme-1" in response.content.decode()


def test_a_nul_in_an_admin_form_is_a_form_error_and_saves_nothing(admin_client):
    customer = customer_upsert(data={"external_id": "acme-1", "name": "Acme"})[0]
    change = reverse("admin:customers_customer_change", args=[customer.pk])
    response = admin_client.post(change, {"external_id": "acme-1", "name": "Ac\x00me"})
    assert response.status_code == 200  # the form again, with its errors
    assert "Null characters are not allowed." in response.content.decode()
    assert Customer.objects.get().name == "Acme"


def test_a_nul_in_a_portal_query_is_a_400(client):
    response = client.get("/portal/login", {"next": "/portal/\x00"})
    assert response.status_code == 400
