"""Nightly reconciliation reports differences between Stripe and our rows; the admin shows
payments per invoice with their Stripe ids and retries at once."""

import pytest

from payments.models import Payment, ReconciliationIssue
from payments.services import invoice_collect
from payments.tasks import reconcile
from tests.payments.helpers import (
    DECLINES,
    card,
    finalized_invoice,
    give_card,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid(stripe_customer):
    give_card(stripe_customer, "pm_card_visa")
    return invoice_collect(invoice=finalized_invoice())


def test_reconciliation_finds_nothing_when_rows_agree(paid):
    assert reconcile() == 0


def test_reconciliation_reports_status_and_amount_differences_once(paid):
    Payment.objects.filter(pk=paid.pk).update(status="processing")
    assert reconcile() == 1
    assert reconcile() == 1  # the same open difference, not a second row
    issue = ReconciliationIssue.objects.get()
    assert (issue.kind, issue.provider_payment_id) == ("status_mismatch", paid.provider_payment_id)
    assert "succeeded" in issue.details
    Payment.objects.filter(pk=paid.pk).update(status="succeeded", amount_cents=1)
    reconcile()
    assert set(ReconciliationIssue.objects.values_list("kind", flat=True)) == {
        "status_mismatch",
        "amount_mismatch",
    }


def test_a_payment_at_stripe_we_lost_is_reported(paid):
    Payment.objects.filter(pk=paid.pk).update(provider_payment_id="")
    reconcile()
    assert ReconciliationIssue.objects.get().kind == "unknown_at_us"


def test_the_invoice_page_lists_its_payment_and_the_retry_button_charges(
    admin_client,
    stripe_customer,
):
    give_card(stripe_customer, card(DECLINES))
    invoice = finalized_invoice()
    payment = invoice_collect(invoice=invoice)
    page = admin_client.get(f"/admin/invoices/invoice/{invoice.pk}/change/").content.decode()
    assert "card_declined" in page and f"/admin/payments/payment/{payment.pk}/change/" in page
    detail = admin_client.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()
    assert "Retry the payment now" in detail
    retry = f"/admin/payments/payment/{payment.pk}/retry/"
    assert "charged now" in admin_client.get(retry).content.decode()
    give_card(stripe_customer, "pm_card_visa")
    response = admin_client.post(retry, follow=True)
    assert "payment succeeded" in response.content.decode()
    payment.refresh_from_db()
    assert (payment.status, payment.attempts) == ("succeeded", 2)
    assert (
        payment.provider_payment_id
        in admin_client.get(f"/admin/invoices/invoice/{invoice.pk}/change/").content.decode()
    )


def test_the_overdue_filter_and_reconciliation_admin(admin_client, paid):
    assert admin_client.get("/admin/invoices/invoice/?overdue=yes").status_code == 200
    Payment.objects.filter(pk=paid.pk).update(status="processing")
    reconcile()
    page = admin_client.get("/admin/payments/reconciliationissue/").content.decode()
    assert "status differs" in page
    issue = ReconciliationIssue.objects.get()
    admin_client.post(
        "/admin/payments/reconciliationissue/",
        {"action": "resolve", "_selected_action": [issue.pk]},
    )
    issue.refresh_from_db()
    assert issue.resolved_at is not None
