"""At 1280 px (a laptop, the admin's sidebar open) the invoice list shows every column without
scrolling sideways or wrapping amounts, and the dashboard's tables stay inside their cards."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from customers.models import Customer
from invoices.models import Invoice

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVERFLOW = "el => el.scrollWidth - el.clientWidth"
TEXT_HEIGHT = (
    "el => { const r = document.createRange(); r.selectNodeContents(el);"
    " return r.getBoundingClientRect().height; }"
)
LINE_HEIGHT = (
    "el => parseFloat(getComputedStyle(el).lineHeight)"
    " || 1.2 * parseFloat(getComputedStyle(el).fontSize)"
)


@pytest.fixture
def invoices(db):
    for n in range(12):
        customer = Customer.objects.create(
            external_id=f"customer-{n:02d}-with-a-long-external-id",
            name=f"Northwind Analytics International Holdings {n}",
            currency="USD",
        )
        Invoice.objects.create(
            customer=customer,
            invoice_type=["subscription", "one_off", "progressive_billing"][n % 3],
            currency=["USD", "EUR", "JPY"][n % 3],
            status="finalized",
            number=f"INV-202611-{n:04d}",
            sequential_id=n + 1,
            issuing_date=date(2026, 11, n + 1),
            payment_due_date=date(2026, 12, n + 1),
            payment_status=["pending", "succeeded", "failed"][n % 3],
            fees_amount_cents=12_345_678 * (n + 1),
            total_amount_cents=12_345_678 * (n + 1),
        )


@pytest.fixture
def subscriptions(invoices):
    """MRR moving every month: customers join, grow, shrink and leave, with large plans."""
    from datetime import UTC, datetime

    from customers.models import Subscription
    from invoices.models import Fee
    from tests.factories import make_plan

    plans = [make_plan(f"p{n}", 98_765_432 * (n + 1)) for n in range(3)]
    for n, customer in enumerate(Customer.objects.order_by("pk")):
        start = datetime(2026, 1 + n % 6, 1, tzinfo=UTC)
        end = datetime(2026, 7 + n % 5, 15, tzinfo=UTC) if n % 4 == 0 else None
        Subscription.objects.create(
            customer=customer,
            plan=plans[n % 3],
            external_id=f"sub-{n}",
            status="terminated" if end else "active",
            started_at=start,
            subscription_at=start,
            terminated_at=end,
        )
    for invoice in Invoice.objects.all():
        Fee.objects.create(
            invoice=invoice,
            fee_type="subscription",
            amount_cents=invoice.total_amount_cents,
            amount_currency=invoice.currency,
        )


def log_in(page, base: str):
    get_user_model().objects.create_superuser("admin", "a@example.com", "a long passphrase 1")
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "a long passphrase 1")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")


@pytest.mark.parametrize("width", [1280, 1400])
def test_the_invoice_list_fits_at_laptop_widths(page, live_server, invoices, screenshot, width):
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/invoices/invoice/")
    page.wait_for_selector("#result_list")
    screenshot(f"admin-invoice-list-{width}")
    assert page.locator("#changelist .results").evaluate(OVERFLOW) <= 0
    assert page.locator("#result_list").evaluate(OVERFLOW) <= 0
    for column in ("total", "invoice_type"):
        cell = page.locator(f"#result_list td.field-{column}").first
        box = cell.bounding_box()
        assert box["x"] + box["width"] <= width, column
    for column in ("__str__", "issuing_date", "total"):  # codes, dates, amounts: one line
        for cell in page.locator(f"#result_list .field-{column}").all():
            assert cell.evaluate(TEXT_HEIGHT) < 1.5 * cell.evaluate(LINE_HEIGHT), column


def test_the_dashboard_tables_stay_inside_their_cards(page, live_server, subscriptions, screenshot):
    log_in(page, live_server.url)
    page.goto(f"{live_server.url}/admin/dashboard/?start=2026-06-01&end=2026-11-30")
    page.wait_for_selector(".dash-grid")
    screenshot("admin-dashboard-1280")
    sections = page.locator(".dash-grid section")
    for i in range(sections.count()):
        section = sections.nth(i)
        name = section.get_attribute("id")
        assert section.evaluate(OVERFLOW) <= 0, name
        for table in section.locator("table").all():
            right = table.evaluate("el => el.getBoundingClientRect().right")
            assert right <= section.evaluate("el => el.getBoundingClientRect().right") + 0.5, name
