"""Catalog and subscription admin: per-model charge forms, pricing preview, lifecycle buttons."""

import pytest
from django.urls import reverse

from customers.models import Subscription
from customers.services import subscription_create
from invoices.models import CreditNote
from plans.models import Charge, Plan
from tests.factories import make_metric, make_plan

pytestmark = pytest.mark.django_db

PLAN_FORM = {
    "name": "Pro",
    "code": "pro",
    "interval": "monthly",
    "amount_cents": "10000",
    "amount_currency": "USD",
    "trial_period": "0",
    "tax_codes": "[]",
    "metadata": "{}",
    "minimum_commitment-TOTAL_FORMS": "0",
    "minimum_commitment-INITIAL_FORMS": "0",
    "usage_thresholds-TOTAL_FORMS": "0",
    "usage_thresholds-INITIAL_FORMS": "0",
    "charges-TOTAL_FORMS": "1",
    "charges-INITIAL_FORMS": "0",
}


def _charge_fields(metric, **fields) -> dict:
    base = {
        "billable_metric": str(metric.pk),
        "min_amount_cents": "0",
        "tax_codes": "[]",
        "invoiceable": "on",
    }
    return {f"charges-0-{key}": value for key, value in {**base, **fields}.items()}


def test_plan_with_a_graduated_charge_from_tier_lines(admin_client):
    metric = make_metric("tokens")
    form = {
        **PLAN_FORM,
        **_charge_fields(
            metric,
            charge_model="graduated",
            ranges="0, 1000000, 0, 0\n1000001, , 0.00002, 0",
        ),
    }
    response = admin_client.post(reverse("admin:plans_plan_add"), form)
    assert response.status_code == 302, response.context["errors"]
    charge = Charge.objects.get(plan__code="pro")
    assert charge.code == "tokens"
    assert charge.properties == {
        "graduated_ranges": [
            {"from_value": 0, "to_value": 1000000, "per_unit_amount": "0", "flat_amount": "0"},
            {
                "from_value": 1000001,
                "to_value": None,
                "per_unit_amount": "0.00002",
                "flat_amount": "0",
            },
        ]
    }


def test_invalid_charge_properties_are_shown_on_the_form(admin_client):
    metric = make_metric("tokens")
    form = {
        **PLAN_FORM,
        **_charge_fields(
            metric, charge_model="package", amount="1", package_size="", free_units="0"
        ),
    }
    response = admin_client.post(reverse("admin:plans_plan_add"), form)
    assert response.status_code == 200
    assert "invalid_package_size" in response.content.decode()
    assert not Plan.objects.exists()


def test_plan_rules_apply_in_the_admin(admin_client):
    make_plan("pro")
    response = admin_client.post(
        reverse("admin:plans_plan_add"), {**PLAN_FORM, "charges-TOTAL_FORMS": "0"}
    )
    assert "value_already_exist" in response.content.decode()


def test_pricing_preview_on_the_charge_page(admin_client):
    metric = make_metric("tokens")
    plan = make_plan(
        "pro",
        charges=[
            {
                "billable_metric_id": str(metric.lago_id),
                "charge_model": "graduated",
                "properties": {
                    "graduated_ranges": [
                        {
                            "from_value": 0,
                            "to_value": 1000000,
                            "per_unit_amount": "0",
                            "flat_amount": "0",
                        },
                        {
                            "from_value": 1000001,
                            "to_value": None,
                            "per_unit_amount": "0.00002",
                            "flat_amount": "0",
                        },
                    ]
                },
            }
        ],
    )
    charge = plan.charges.get()
    url = reverse("admin:plans_charge_change", args=[charge.pk])
    page = admin_client.get(url, {"preview_units": "1500000"}).content.decode()
    assert "1500000 units → 10.00000 USD" in page
    assert "billed as 10.00 USD" in page
    assert "Enter a number" in admin_client.get(url, {"preview_units": "lots"}).content.decode()


def _subscription() -> Subscription:
    make_plan("basic", 1000)
    make_plan("premium", 5000)
    return subscription_create(
        data={"external_customer_id": "c1", "plan_code": "basic", "external_id": "s1"}
    )


def test_terminate_button_asks_then_terminates(admin_client):
    subscription = _subscription()
    url = reverse("admin:customers_subscription_terminate", args=[subscription.pk])
    page = admin_client.get(url).content.decode()
    assert "Yes, terminate" in page and "Closing invoice" in page
    assert "Unused days paid in advance" not in page  # the plan bills in arrears
    admin_client.post(url, {"on_termination_invoice": "skip"})
    subscription.refresh_from_db()
    assert (subscription.status, subscription.on_termination_invoice) == ("terminated", "skip")
    assert subscription.billings.count() == 0  # no closing invoice, as chosen


def test_terminate_button_offers_the_unused_days_choice_for_advance_plans(admin_client):
    make_plan("advance", 3000, pay_in_advance=True)
    subscription = subscription_create(
        data={"external_customer_id": "c3", "plan_code": "advance", "external_id": "s3"}
    )
    url = reverse("admin:customers_subscription_terminate", args=[subscription.pk])
    assert "Unused days paid in advance" in admin_client.get(url).content.decode()
    choice = {"on_termination_invoice": "generate", "on_termination_credit_note": "skip"}
    admin_client.post(url, choice)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.on_termination_credit_note) == ("terminated", "skip")
    assert not CreditNote.objects.exists()


def test_change_plan_button_upgrades(admin_client):
    subscription = _subscription()
    url = reverse("admin:customers_subscription_change_plan", args=[subscription.pk])
    premium = Plan.objects.get(code="premium")
    response = admin_client.post(url, {"plan": premium.pk})
    assert response.status_code == 302
    assert Subscription.objects.get(external_id="s1", status="active").plan == premium


def test_subscribe_from_the_admin_goes_through_the_service(admin_client):
    make_plan("basic", 1000, currency="EUR")
    from customers.services import customer_upsert

    customer, _ = customer_upsert(data={"external_id": "c2"})
    response = admin_client.post(
        reverse("admin:customers_subscription_add"),
        {
            "customer": customer.pk,
            "plan": Plan.objects.get().pk,
            "external_id": "s2",
            "billing_time": "calendar",
            "name": "",
        },
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.currency == "EUR"
    assert Subscription.objects.get(external_id="s2").status == "active"


def test_a_charge_with_filters_opens_with_each_filters_own_price(admin_client):
    metric = make_metric("tokens", filters=[{"key": "model", "values": ["gpt-4o", "mini"]}])
    plan = make_plan(
        "ai",
        charges=[
            {
                "billable_metric_id": str(metric.lago_id),
                "charge_model": "standard",
                "properties": {"amount": "0.01"},
                "filters": [
                    {"values": {"model": ["gpt-4o"]}, "properties": {"amount": "0.0375"}},
                ],
            }
        ],
    )
    charge = plan.charges.get()
    page = admin_client.get(reverse("admin:plans_charge_change", args=[charge.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="filters-0-amount"' in html and 'value="0.0375"' in html
    assert "model = gpt-4o" in html
