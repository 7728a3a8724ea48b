"""Invoice admin buttons (with confirmation) and subscription bill-now / preview."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from customers.models import Subscription
from customers.services import customer_upsert, subscription_create
from invoices.models import Invoice
from invoices.services import subscription_bill_due
from tests.factories import make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft():
    make_plan("pro", 2500)
    customer_upsert(
        data={
            "external_id": "cust",
            "email": "ap@cust.example",
            "billing_configuration": {"invoice_grace_period": 5},
        }
    )
    with time_machine.travel(datetime(2024, 4, 1, tzinfo=UTC), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "s"}
        )
    [invoice] = subscription_bill_due(
        subscription_id=subscription.pk, now=datetime(2024, 5, 1, 0, 1, tzinfo=UTC)
    )
    return invoice


def _action(admin_client, invoice, name):
    url = reverse("admin:invoices_invoice_action", args=[invoice.pk, name])
    assert "Yes, go ahead" in admin_client.get(url).content.decode()
    return admin_client.post(url)


def test_finalize_then_void_buttons(admin_client, draft):
    page = admin_client.get(reverse("admin:invoices_invoice_change", args=[draft.pk]))
    assert "Finalize" in page.content.decode()
    _action(admin_client, draft, "finalize")
    draft.refresh_from_db()
    assert draft.status == "finalized" and draft.number
    page = admin_client.get(reverse("admin:invoices_invoice_change", args=[draft.pk])).content
    assert b'name="metadata"' not in page  # issued invoices are read-only
    _action(admin_client, draft, "void")
    draft.refresh_from_db()
    assert draft.status == "voided"


def test_refresh_resend_and_pdf(admin_client, draft, mailoutbox):
    _action(admin_client, draft, "refresh")
    _action(admin_client, draft, "finalize")
    mailoutbox.clear()
    _action(admin_client, draft, "resend")
    assert len(mailoutbox) == 1
    pdf = admin_client.get(reverse("admin:invoices_invoice_pdf", args=[draft.pk]))
    assert pdf.content.startswith(b"%PDF")


def test_refused_action_shows_a_message(admin_client, draft):
    response = admin_client.post(
        reverse("admin:invoices_invoice_action", args=[draft.pk, "void"]), follow=True
    )
    assert "Only a finalized invoice can be voided" in response.content.decode()


def test_changelist_filters(admin_client, draft):
    url = reverse("admin:invoices_invoice_changelist")
    for params in ({"status__exact": "draft"}, {"overdue": "yes"}, {"currency": "USD"}):
        assert admin_client.get(url, params).status_code == 200


def test_subscription_preview_and_bill_now(admin_client, django_capture_on_commit_callbacks):
    make_plan("pro", 2500)
    with time_machine.travel(datetime(2024, 4, 1, tzinfo=UTC), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "c", "plan_code": "pro", "external_id": "s"}
        )
    with time_machine.travel(datetime(2024, 4, 20, tzinfo=UTC), tick=False):
        page = admin_client.get(
            reverse("admin:customers_subscription_preview", args=[subscription.pk])
        ).content.decode()
    assert 'id="preview-total">2500<' in page
    assert not Invoice.objects.exists()
    with time_machine.travel(datetime(2024, 5, 1, 0, 1, tzinfo=UTC), tick=False):
        form = {"action": "bulk_bill_now", "_selected_action": [subscription.pk]}
        changelist = reverse("admin:customers_subscription_changelist")
        confirm = admin_client.post(changelist, form)
        assert "Yes, run it in the background" in confirm.content.decode()
        assert not Invoice.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            started = admin_client.post(changelist, {**form, "post": "yes"})
    job_page = admin_client.get(started["Location"]).content.decode()
    assert "1 done, 0 failed of 1" in job_page and 'http-equiv="refresh"' not in job_page
    assert Invoice.objects.get().total_amount_cents == 2500
    assert Subscription.objects.get().next_billing_at == datetime(2024, 6, 1, tzinfo=UTC)
