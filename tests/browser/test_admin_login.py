"""Staff log into the admin in a real browser."""

import pytest

pytestmark = pytest.mark.browser


def test_staff_logs_into_admin_and_sees_the_product(page, live_server, admin_user, screenshot):
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "password")
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")
    assert "Billing back-office" in page.inner_text("#site-name")
    assert "API keys" in page.content()
    screenshot("admin-index")
