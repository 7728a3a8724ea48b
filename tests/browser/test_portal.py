"""The customer portal in real headless Chromium: log in, usage that matches the API's
current_usage, an invoice and its PDF, billing details edited, log out; another customer's
invoice is 404; Lago's portal_url logs in and expires. A screenshot of each page."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from babel.numbers import format_decimal

from portal.access import portal_token
from tests.portal.world import PASSWORD, build_world, portal_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(api, settings, live_server):
    settings.PUBLIC_BASE_URL = live_server.url
    world = build_world(api, datetime.now(UTC))
    portal_user(world.acme, "ap@acme.example")
    return world


def texts(page, testid: str) -> list[str]:
    return [t.strip() for t in page.locator(f"[data-testid={testid}]").all_inner_texts()]


def test_a_customer_uses_the_portal(page, live_server, world, api, screenshot):
    base = live_server.url
    page.goto(f"{base}/portal/")
    assert page.url.startswith(f"{base}/portal/login")
    screenshot("portal-login")
    page.get_by_label("E-mail").fill("ap@acme.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/portal/")

    usage = api.get(
        "/api/v1/customers/acme/current_usage?external_subscription_id=acme_main"
    ).json()["customer_usage"]
    expected = [format_decimal(c["units"], locale="en") for c in usage["charges_usage"]]
    assert texts(page, "units") == expected
    assert texts(page, "amount-so-far") == [f"${usage['amount_cents'] / 100:,.2f}"]
    assert page.locator("svg.bars").count() == 2
    screenshot("portal-overview")

    page.get_by_role("link", name="Usage", exact=True).click()
    assert "GPT-4 tokens" in page.content()
    page.select_option("#period", "1")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*period=1.*"))
    screenshot("portal-usage-past-period")

    page.get_by_role("link", name="Invoices").click()
    screenshot("portal-invoices")
    page.get_by_role("link", name=world.acme_invoice.number).click()
    page.wait_for_url(f"{base}/portal/invoices/{world.acme_invoice.lago_id}")
    screenshot("portal-invoice")
    with page.expect_download() as download:
        page.get_by_test_id("pdf").click()
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    page.get_by_role("link", name="Credits").click()
    screenshot("portal-credits")

    page.get_by_role("link", name="Billing details").click()
    page.get_by_label("Legal name").fill("Acme AI Inc.")
    page.get_by_label("City").fill("San Francisco")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector("text=Your billing details are saved.")
    screenshot("portal-billing-details")
    world.acme.refresh_from_db()
    assert (world.acme.legal_name, world.acme.city) == ("Acme AI Inc.", "San Francisco")

    page.get_by_role("link", name="Account").click()
    screenshot("portal-account")

    theirs = page.goto(f"{base}/portal/invoices/{world.other_invoice.lago_id}")
    assert theirs.status == 404
    theirs_pdf = page.request.get(f"{base}/portal/invoices/{world.other_invoice.lago_id}/pdf")
    assert theirs_pdf.status == 404

    page.goto(f"{base}/portal/")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(f"{base}/portal/login")
    page.goto(f"{base}/portal/invoices")
    assert page.url.startswith(f"{base}/portal/login")


def test_the_portal_url_logs_in_and_expires(page, live_server, world, api, screenshot):
    url = api.get("/api/v1/customers/other/portal_url").json()["customer"]["portal_url"]
    page.goto(url)
    page.wait_for_url(f"{live_server.url}/portal/")
    assert page.locator(".who").inner_text() == "Other Corp"
    screenshot("portal-overview-from-link")
    page.goto(f"{live_server.url}/portal/invoices")
    assert world.other_invoice.number in page.content()
    assert world.acme_invoice.number not in page.content()

    with time_machine.travel(datetime.now(UTC) - timedelta(hours=12, minutes=1), tick=False):
        stale = portal_token(world.other)
    response = page.goto(f"{live_server.url}/portal/t/{stale}")
    assert response.status == 403
    screenshot("portal-link-expired")
