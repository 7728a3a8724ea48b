"""The finance back-office in headless Chromium: a finance viewer opens the dashboard; a
billing operator issues a credit note through its preview-and-confirm page."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import roles
from customers.services import customer_upsert
from invoices.models import CreditNote
from tests.payments.helpers import finalized_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def staff_user(username: str, role: str):
    user = get_user_model().objects.create_user(
        username, password="a long passphrase 1", is_staff=True
    )
    user.groups.add(Group.objects.get(name=role))
    return user


def log_in(page, base: str, username: str):
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "a long passphrase 1")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


@pytest.fixture
def invoice(db):
    customer_upsert(data={"external_id": "acme", "name": "Acme AI", "currency": "USD"})
    now = datetime.now(UTC)
    with time_machine.travel(now - timedelta(days=70), tick=False):
        invoice = finalized_invoice(4200)  # subscribed about two months ago, billed since
    return invoice


def test_a_finance_viewer_reads_the_dashboard(page, live_server, invoice, screenshot):
    staff_user("viewer", roles.VIEWER)
    log_in(page, live_server.url, "viewer")
    page.get_by_role("link", name="Dashboard").click()
    page.wait_for_selector("#mrr svg")
    assert page.locator("svg.dash-chart").count() == 2  # MRR and receivables
    # the invoice is from 2024 and no event came in the last hour: those charts say so
    # rather than drawing an empty box
    assert page.locator("#revenue [data-testid=chart-empty]").inner_text() == (
        "No revenue invoiced in this range."
    )
    assert page.locator("#ingestion [data-testid=chart-empty]").inner_text() == (
        "No events in the last hour."
    )
    assert "Finance dashboard" in page.content()
    screenshot("admin-dashboard")
    page.goto(f"{live_server.url}/admin/invoices/invoice/{invoice.pk}/change/")
    assert page.get_by_role("link", name="Issue credit note").count() == 0


def test_a_billing_operator_issues_a_credit_note(page, live_server, invoice, screenshot):
    staff_user("operator", roles.OPERATOR)
    log_in(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/admin/invoices/invoice/{invoice.pk}/change/")
    page.get_by_role("link", name="Issue credit note").click()
    fee = invoice.fees.get()
    page.select_option("#id_reason", "order_change")
    page.fill(f"#id_fee_{fee.lago_id}", "1000")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_selector("#preview-total")
    screenshot("admin-credit-note-preview")
    page.get_by_role("button", name="Issue this credit note").click()
    page.wait_for_selector("text=issued")
    note = CreditNote.objects.get()
    assert (note.total_amount_cents, note.invoice_id) == (1000, invoice.pk)
    screenshot("admin-credit-note-issued")


def test_a_billing_operator_terminates_with_a_refund_of_the_unused_days(
    page, live_server, screenshot
):
    """The terminate page offers Lago's choices; a refund of the unused days of a base fee paid
    in advance becomes a credit note on the invoice that billed them."""
    from customers.services import subscription_create
    from invoices.models import Invoice
    from invoices.services import invoice_update
    from tests.factories import make_plan

    make_plan("pro", 3000, pay_in_advance=True)
    customer_upsert(data={"external_id": "acme", "name": "Acme AI", "currency": "USD"})
    with time_machine.travel(datetime.now(UTC) - timedelta(days=10), tick=False):
        subscription = subscription_create(  # anniversary: about 19 days of it are left
            data={
                "external_customer_id": "acme",
                "plan_code": "pro",
                "external_id": "acme_main",
                "billing_time": "anniversary",
            }
        )
    paid = Invoice.objects.get()
    invoice_update(invoice=paid, data={"payment_status": "succeeded"})
    staff_user("operator", roles.OPERATOR)
    log_in(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/admin/customers/subscription/{subscription.pk}/change/")
    page.get_by_role("link", name="Terminate").click()
    page.select_option("#id_on_termination_credit_note", "refund")
    screenshot("admin-subscription-terminate")
    page.get_by_role("button", name="Yes, terminate").click()
    page.wait_for_selector("text=Terminated")
    note = CreditNote.objects.get()
    assert note.invoice_id == paid.pk and note.refund_amount_cents > 0
    assert note.refund_amount_cents == note.total_amount_cents  # all paid in money: refunded


def test_a_billing_operator_finds_the_subscription_the_close_could_not_bill(
    page, live_server, screenshot
):
    """Issue 14: one stored value out of range fails its own subscription's invoice, visibly."""
    from tests.invoices.test_close_isolation import bill_due, make_three_due

    make_three_due()
    assert "1 subscription(s) could not be billed" in bill_due()
    staff_user("operator", roles.OPERATOR)
    log_in(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/admin/invoices/billingfailure/?state=open")
    row = page.locator("#result_list tbody tr")
    assert row.count() == 1
    assert "value_is_out_of_range" in row.inner_text()
    screenshot("admin-billing-failures")


def test_a_billing_operator_sees_where_a_customer_stands(page, live_server, api, screenshot):
    """From the customer list to the customer's page: usage against what is included, what is
    owed, credits and the actions; it fits 1280 px without a horizontal scroll."""
    from tests.portal.world import build_world

    world = build_world(api, datetime.now(UTC).replace(microsecond=0))
    staff_user("operator", roles.OPERATOR)
    log_in(page, live_server.url, "operator")
    page.goto(f"{live_server.url}/admin/customers/customer/")
    page.locator("tr", has_text="acme").get_by_role("link", name="Overview").click()
    page.wait_for_selector("[data-testid=customer-overview]")
    assert page.locator("[data-testid=usage-total]").first.inner_text().startswith("$")
    assert page.locator("[data-testid=due-USD]").inner_text().startswith("$")
    assert page.get_by_role("link", name="Top up").count() == 1
    assert page.get_by_role("link", name="Terminate").count() == 1
    wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
    assert not wide
    screenshot("admin-customer-overview")
    page.get_by_role("link", name="Top up").click()
    page.wait_for_selector("form")
    assert world.acme.wallets.get().name in page.content()
