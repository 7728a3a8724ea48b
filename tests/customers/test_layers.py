"""Customers and usage import no higher layer (issue 15): invoicing, payments and the portal
react through the hooks of core/hooks.py, extend the customer admin from their own app, and
add their customer endpoints to the routed viewset. What the user sees is unchanged."""

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from django.contrib import admin
from django.db import transaction
from django.urls import reverse

from core import hooks
from customers.admin import CustomerAdmin, SubscriptionAdmin
from customers.models import Customer, Subscription
from customers.services import customer_upsert, subscription_create, subscription_terminate
from invoices.admin_customers import CustomerInvoicingAdmin, SubscriptionInvoicingAdmin
from invoices.models import Invoice
from invoices.receivers import subscription_bill_now, usage_followups_after_commit
from payments.customer_hooks import customer_sync_after_commit
from tests.factories import make_plan

ROOT = Path(__file__).resolve().parents[2]
LAYER = {
    "core": 0,
    "plans": 1,
    "taxes": 1,
    "webhooks": 1,
    "customers": 2,
    "usage": 3,
    "invoices": 4,
    "payments": 5,
    "portal": 6,
    "backoffice": 6,
}
# Owned by other parts of issue 15 (wallets, personal data): they remove their own imports.
OTHERS = {"customers/wallets.py", "customers/personal_data.py"}


def _imported_apps(path: Path) -> set[str]:
    """Top-level packages imported anywhere in the module (module level and in functions)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def _upward_imports(app: str) -> list[str]:
    found = []
    for path in sorted((ROOT / app).rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if "/migrations/" in relative or relative in OTHERS:
            continue
        higher = {name for name in _imported_apps(path) if LAYER.get(name, -1) > LAYER[app]}
        found += [f"{relative}: {name}" for name in sorted(higher)]
    return found


@pytest.mark.parametrize("app", ["customers", "usage"])
def test_the_app_imports_no_higher_layer_at_module_level_or_inside_a_function(app):
    assert _upward_imports(app) == []


def test_invoicing_bills_the_starts_and_terminations_and_follows_up_new_usage():
    assert hooks.receivers("subscription.started") == [subscription_bill_now]
    assert hooks.receivers("subscription.terminated") == [subscription_bill_now]
    assert hooks.receivers("usage.events_stored") == [usage_followups_after_commit]


def test_payments_syncs_a_saved_customer_with_its_provider():
    assert customer_sync_after_commit in hooks.receivers("customer.saved")


@pytest.mark.django_db
def test_a_termination_is_billed_in_its_own_transaction_and_rolled_back_with_it():
    make_plan("basic", 3100)
    with time_machine.travel(datetime(2024, 3, 1, tzinfo=UTC), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "cust", "plan_code": "basic", "external_id": "sub"}
        )
    march_10 = time_machine.travel(datetime(2024, 3, 10, 12, tzinfo=UTC), tick=False)
    with march_10, pytest.raises(RuntimeError), transaction.atomic():
        subscription_terminate(subscription=subscription)
        # billed before the commit: the final invoice, March 1-10 = 10/31 x 3,100 c
        invoice = Invoice.objects.get(customer__external_id="cust")
        assert (invoice.fees_amount_cents, invoice.billings.get().invoicing_reason) == (
            1000,
            "subscription_terminating",
        )
        raise RuntimeError("roll back")
    assert Invoice.objects.count() == 0
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.ACTIVE


@pytest.mark.django_db
def test_a_customer_paying_by_stripe_is_synced_once_after_commit_and_others_never(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as plain:
        customer_upsert(data={"external_id": "plain"})
    stripe = {"payment_provider": "stripe", "sync_with_provider": True}
    with django_capture_on_commit_callbacks() as synced:
        customer_upsert(data={"external_id": "card", "billing_configuration": stripe})
    sync_callbacks = [
        callback for callback in synced if "customer_sync_after_commit" in repr(callback)
    ]
    assert (len(plain), len(synced), len(sync_callbacks)) == (0, 1, 1)


@pytest.mark.django_db
def test_the_customer_page_offers_the_one_off_invoice_then_the_personal_data_buttons(
    admin_client,
):
    customer, _ = customer_upsert(data={"external_id": "cust"})
    page = admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    pk = customer.pk
    assert (
        f'<a class="button" href="/admin/customers/customer/{pk}/one-off-invoice/">'
        "Issue a one-off invoice</a> "
        f'<a class="button" href="/admin/customers/customer/{pk}/personal-data/export/">'
        "Export personal data (ZIP)</a> "
        f'<a class="button" href="/admin/customers/customer/{pk}/personal-data/erase/">'
        "Erase personal data</a>"
    ) in page.content.decode()


@pytest.mark.django_db
def test_an_active_subscription_page_offers_terminate_change_plan_and_preview(admin_client):
    make_plan("basic")
    subscription = subscription_create(
        data={"external_customer_id": "cust", "plan_code": "basic", "external_id": "sub"}
    )
    page = admin_client.get(reverse("admin:customers_subscription_change", args=[subscription.pk]))
    base = f"/admin/customers/subscription/{subscription.pk}"
    assert (
        f'<a class="button" href="{base}/terminate/">Terminate</a> '
        f'<a class="button" href="{base}/change-plan/">Change plan</a> '
        f'<a class="button" href="{base}/preview/">Preview next invoice</a>'
    ) in page.content.decode()


def test_the_registered_customer_admins_carry_the_invoicing_pages():
    customer_admin = admin.site.get_model_admin(Customer)
    subscription_admin = admin.site.get_model_admin(Subscription)
    assert isinstance(customer_admin, CustomerAdmin)
    assert isinstance(customer_admin, CustomerInvoicingAdmin)
    assert isinstance(subscription_admin, SubscriptionAdmin)
    assert isinstance(subscription_admin, SubscriptionInvoicingAdmin)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("customer-current-usage", "current_usage"),
        ("customer-projected-usage", "projected_usage"),
        ("customer-past-usage", "past_usage"),
        ("customer-checkout-url", "checkout_url"),
        ("customer-portal-url", "portal_url"),
    ],
)
def test_the_customer_endpoints_of_higher_layers_keep_their_paths_and_names(name, path):
    url = reverse(name, kwargs={"external_id": "acme.eu"})
    assert url == f"/api/v1/customers/acme.eu/{path}"
