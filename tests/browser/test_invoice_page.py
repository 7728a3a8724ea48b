"""The invoice's admin page at 1280 px (issue 18): the lines as the PDF shows them, with a
graduated charge's tiers, a coupon among the deductions, the sections below, and the drill-down
from the usage fee to its events."""

import pytest

from core import roles
from customers.applied_coupons import applied_coupon_create
from customers.services import customer_upsert
from plans.coupons import coupon_create
from tests.browser.test_backoffice import log_in, staff_user
from tests.invoices.test_invoice_page import january_invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def invoice(db):
    customer_upsert(
        data={
            "external_id": "cust",
            "name": "Acme AI",
            "currency": "USD",
            "address_line1": "1 Market Street",
            "city": "San Francisco",
            "state": "CA",
            "zipcode": "94105",
            "country": "US",
        }
    )
    coupon_create(
        data={
            "code": "welcome",
            "name": "Welcome",
            "coupon_type": "fixed_amount",
            "amount_cents": 2000,
            "amount_currency": "USD",
            "frequency": "once",
        }
    )
    applied_coupon_create(data={"external_customer_id": "cust", "coupon_code": "welcome"})
    return january_invoice()


def test_a_finance_viewer_reads_an_invoice_and_drills_down_to_its_events(
    page, live_server, invoice, screenshot
):
    staff_user("viewer", roles.VIEWER)
    log_in(page, live_server.url, "viewer")
    page.goto(f"{live_server.url}/admin/invoices/invoice/{invoice.pk}/change/")
    document = page.get_by_test_id("invoice-document")
    document.wait_for()
    assert document.get_by_test_id("fee-breakdown").count() == 5
    assert "Units 1,001 \u2013 5,000" in document.inner_text()
    deductions = page.get_by_test_id("deductions").inner_text()
    assert "Welcome (welcome)" in deductions and "-$20.00" in deductions
    # nothing of the section is cut off at 1280 px: the table fits the page's width
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280
    screenshot("admin-invoice-page")
    page.get_by_test_id("fee-events").first.click()
    page.wait_for_selector("#result_list")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2  # the two January events of "calls" on this subscription
    assert "2 events" in page.locator(".paginator").inner_text()  # counted, not estimated
    assert "7,000" in page.locator("#result_list").inner_text()  # no 12 stored decimals
    assert "2025-01-01 00:00 UTC → 2025-02-01 00:00 UTC" in page.content()
    screenshot("admin-invoice-fee-events")
