"""Admin: add-ons, coupons (create, apply to a customer, terminate) and applied coupons."""

import pytest
from django.urls import reverse

from customers.applied_coupons import applied_coupon_create
from customers.services import customer_upsert
from plans.addons import add_on_create
from plans.coupons import coupon_create
from plans.models import AddOn, AppliedCoupon, Coupon
from tests.factories import make_metric, make_plan

pytestmark = pytest.mark.django_db

COUPON_FORM = {
    "name": "Launch",
    "code": "launch",
    "description": "",
    "coupon_type": "percentage",
    "percentage_rate": "20",
    "amount_cents": "",
    "amount_currency": "",
    "frequency": "recurring",
    "frequency_duration": "2",
    "expiration": "no_expiration",
    "reusable": "on",
}


@pytest.fixture
def welcome():
    return coupon_create(
        data={
            "name": "Welcome",
            "code": "welcome",
            "coupon_type": "fixed_amount",
            "amount_cents": 5000,
            "amount_currency": "USD",
        }
    )


@pytest.fixture
def customer():
    customer, _ = customer_upsert(data={"external_id": "acme", "currency": "USD"})
    return customer


def test_pages_load(admin_client, welcome, customer):
    add_on_create(
        data={
            "name": "GPU",
            "code": "gpu_pack_10h",
            "amount_cents": 25000,
            "amount_currency": "USD",
        }
    )
    applied_coupon_create(data={"external_customer_id": "acme", "coupon_code": "welcome"})
    applied = AppliedCoupon.objects.get()
    urls = [
        reverse("admin:plans_addon_changelist"),
        reverse("admin:plans_addon_add"),
        reverse("admin:plans_addon_change", args=[AddOn.objects.get().pk]),
        reverse("admin:plans_coupon_changelist") + "?status=active&coupon_type=fixed_amount",
        reverse("admin:plans_coupon_add"),
        reverse("admin:plans_coupon_change", args=[welcome.pk]),
        reverse("admin:plans_coupon_apply", args=[welcome.pk]),
        reverse("admin:plans_appliedcoupon_changelist") + "?q=acme",
        reverse("admin:plans_appliedcoupon_changelist") + "?q=x",
        reverse("admin:plans_coupon_changelist") + "?q=x",
        reverse("admin:plans_addon_changelist") + "?q=x",
        reverse("admin:plans_appliedcoupon_change", args=[applied.pk]),
    ]
    for url in urls:
        response = admin_client.get(url)
        assert response.status_code == 200, url
    listing = admin_client.get(reverse("admin:plans_appliedcoupon_changelist")).content.decode()
    assert "$50.00" in listing  # what is left
    change = admin_client.get(reverse("admin:plans_coupon_change", args=[welcome.pk]))
    assert "Apply to a customer" in change.content.decode()
    assert b'name="amount_cents"' not in change.content  # applied: terms are locked


def test_create_a_limited_coupon_with_the_service_rules(admin_client):
    plan = make_plan("pro", 1000)
    metric = make_metric("tokens", field_name="tokens")
    both = {**COUPON_FORM, "plans": [plan.pk], "billable_metrics": [metric.pk]}
    refused = admin_client.post(reverse("admin:plans_coupon_add"), both)
    assert refused.status_code == 200
    assert "only_one_limitation_type_per_coupon_allowed" in refused.content.decode()
    created = admin_client.post(
        reverse("admin:plans_coupon_add"), {**COUPON_FORM, "plans": [plan.pk]}
    )
    assert created.status_code == 302
    coupon = Coupon.objects.get()
    assert (coupon.percentage_rate, coupon.frequency_duration) == (20, 2)
    assert list(coupon.plans.all()) == [plan]


def test_add_on_admin_validates_like_the_api(admin_client):
    form = {
        "name": "GPU",
        "code": "gpu_pack_10h",
        "amount_cents": "-1",
        "amount_currency": "usd",
        "tax_codes": "[]",
    }
    refused = admin_client.post(reverse("admin:plans_addon_add"), form)
    assert "value_is_invalid" in refused.content.decode()
    created = admin_client.post(reverse("admin:plans_addon_add"), {**form, "amount_cents": "25000"})
    assert created.status_code == 302
    assert AddOn.objects.get().amount_currency == "USD"


def test_apply_page_then_terminate_action(admin_client, welcome, customer):
    url = reverse("admin:plans_coupon_apply", args=[welcome.pk])
    response = admin_client.post(url, {"customer": customer.pk, "amount_cents": "3000"})
    assert response.status_code == 302
    applied = AppliedCoupon.objects.get()
    assert (applied.customer, applied.amount_cents, applied.amount_cents_remaining) == (
        customer,
        3000,
        3000,
    )
    refused = admin_client.post(url, {"customer": customer.pk, "amount_currency": "EUR"})
    assert refused.status_code == 200
    assert "currencies_does_not_match" in refused.content.decode()
    admin_client.post(
        reverse("admin:plans_appliedcoupon_changelist"),
        {"action": "terminate", "_selected_action": [applied.pk]},
    )
    applied.refresh_from_db()
    assert applied.status == "terminated"


def test_coupon_terminate_action_stops_new_applications(admin_client, welcome, customer):
    admin_client.post(
        reverse("admin:plans_coupon_changelist"),
        {"action": "terminate", "_selected_action": [welcome.pk]},
    )
    welcome.refresh_from_db()
    assert welcome.terminated_at is not None
    response = admin_client.post(
        reverse("admin:plans_coupon_apply", args=[welcome.pk]), {"customer": customer.pk}
    )
    assert response.status_code == 200
    assert "coupon_not_found" in response.content.decode()
