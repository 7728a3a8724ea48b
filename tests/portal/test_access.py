"""Who gets into the portal, and what they can reach: portal users only, one customer each,
lockouts after repeated failures, TOTP, Lago's 12-hour portal_url, logout, strict headers."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.portal.conftest import NOW
from tests.portal.world import PASSWORD

pytestmark = pytest.mark.django_db


def log_in(client, email: str, password: str = PASSWORD):
    return client.post("/portal/login", {"username": email, "password": password})


def test_pages_need_a_login(client, at_now):
    response = client.get("/portal/invoices")
    assert response.status_code == 302
    assert response["Location"] == "/portal/login?next=/portal/invoices"


def test_a_portal_user_logs_in_and_lands_on_the_next_page(client, at_now):
    response = client.post(
        "/portal/login",
        {"username": "AP@acme.example", "password": PASSWORD, "next": "/portal/invoices"},
    )
    assert (response.status_code, response["Location"]) == (302, "/portal/invoices")
    assert client.get("/portal/invoices").status_code == 200


def test_an_outside_next_url_is_ignored(client, at_now):
    response = client.post(
        "/portal/login",
        {"username": "ap@acme.example", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/portal/"


@pytest.mark.parametrize("who", ["wrong password", "staff", "no portal account"])
def test_only_portal_users_get_in_with_one_message(client, at_now, admin_user, who):
    if who == "staff":
        response = log_in(client, "admin@example.com", "password")
    elif who == "no portal account":
        get_user_model().objects.create_user("x@acme.example", "x@acme.example", PASSWORD)
        response = log_in(client, "x@acme.example")
    else:
        response = log_in(client, "ap@acme.example", "wrong")
    assert response.status_code == 200
    assert "Wrong e-mail or password." in response.content.decode()
    assert client.get("/portal/").status_code == 302


def test_repeated_failures_lock_the_login(client, at_now, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, "ap@acme.example", "wrong")
    response = log_in(client, "ap@acme.example")  # the right password, too late
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    with time_machine.travel(NOW + settings.AXES_COOLOFF_TIME + timedelta(seconds=1), tick=False):
        assert log_in(client, "ap@acme.example").status_code == 302


def test_another_customers_things_answer_404(acme_client, world):
    theirs = [
        f"/portal/invoices/{world.other_invoice.lago_id}",
        f"/portal/invoices/{world.other_invoice.lago_id}/pdf",
        "/portal/usage?subscription=other_main",
    ]
    for url in theirs:
        assert acme_client.get(url).status_code == 404, url
    wallet = world.other.wallets.get()
    response = acme_client.post(f"/portal/credits/{wallet.lago_id}/top-up", {"credits": "5"})
    assert response.status_code == 404
    assert (
        acme_client.post(f"/portal/invoices/{world.other_invoice.lago_id}/pay").status_code == 404
    )
    page = acme_client.get("/portal/invoices").content.decode()
    assert world.other_invoice.number not in page


def test_portal_url_logs_in_for_12_hours_then_expires(client, api, at_now, world):
    url = api.get("/api/v1/customers/other/portal_url").json()["customer"]["portal_url"]
    path = url.removeprefix("http://127.0.0.1:8000")
    response = client.get(path)
    assert (response.status_code, response["Location"]) == (302, "/portal/")
    page = client.get("/portal/invoices").content.decode()
    assert world.other_invoice.number in page and world.acme_invoice.number not in page
    assert client.session.get_expiry_age() == 12 * 3600
    assert client.get("/portal/account").status_code == 404  # no password behind a link
    with time_machine.travel(NOW + timedelta(hours=12, seconds=1), tick=False):
        assert client.get(path).status_code == 403
        assert client.get("/portal/").status_code == 302  # the session ended as well
    assert client.get("/portal/t/forged").status_code == 403


def test_log_out_ends_the_session(acme_client):
    assert acme_client.post("/portal/logout").status_code == 302
    assert acme_client.get("/portal/").status_code == 302
    assert acme_client.get("/portal/logout").status_code == 405  # POST only (CSRF-protected)


def test_sessions_expire(acme_client, settings):
    later = NOW + timedelta(seconds=settings.PORTAL_SESSION_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        assert acme_client.get("/portal/").status_code == 302


def test_forms_need_the_csrf_token(at_now):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    assert client.post("/portal/login", {"username": "ap@acme.example"}).status_code == 403


def test_strict_headers(client, acme_client, settings):
    response = acme_client.get("/portal/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'none'" in policy and "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cache-Control"] == "private, no-store"
    assert "https://" not in response.content.decode()  # every asset served by the app
    settings.PORTAL_FRAME_ANCESTORS = ["https://app.seller.example"]
    response = acme_client.get("/portal/")
    assert "frame-ancestors https://app.seller.example" in response["Content-Security-Policy"]
    assert "X-Frame-Options" not in response


def code_for(device: TOTPDevice) -> str:
    return str(TOTP(device.bin_key, device.step, device.t0, device.digits).token()).zfill(6)


def test_two_factor_setup_then_asked_at_login(acme_client):
    page = acme_client.get("/portal/account/two-factor").content.decode()
    assert "<svg" in page  # the QR code, drawn here
    device = TOTPDevice.objects.get(user__email="ap@acme.example")
    wrong = acme_client.post("/portal/account/two-factor", {"code": "000000"})
    assert "This code is not valid." in wrong.content.decode()
    with time_machine.travel(NOW + timedelta(seconds=5), tick=False):  # after the throttle
        acme_client.post("/portal/account/two-factor", {"code": code_for(device)})
    device.refresh_from_db()
    assert device.confirmed
    acme_client.post("/portal/logout")
    with time_machine.travel(NOW + timedelta(minutes=1), tick=False):
        response = log_in(acme_client, "ap@acme.example")
        assert response["Location"].startswith("/portal/login/code")
        assert acme_client.get("/portal/").status_code == 302  # not in yet
        bad = acme_client.post("/portal/login/code", {"code": "123456"})
        assert "This code is not valid." in bad.content.decode()
    with time_machine.travel(NOW + timedelta(minutes=1, seconds=5), tick=False):
        good = acme_client.post("/portal/login/code", {"code": code_for(device)})
        assert good.status_code == 302
        assert acme_client.get("/portal/").status_code == 200


def test_too_many_wrong_codes_start_over(acme_client):
    device = TOTPDevice.objects.create(user=get_user_model().objects.get(email="ap@acme.example"))
    assert device.confirmed
    acme_client.post("/portal/logout")
    log_in(acme_client, "ap@acme.example")
    for _ in range(5):
        response = acme_client.post("/portal/login/code", {"code": "000000"})
    assert response["Location"] == "/portal/login"
    assert acme_client.get("/portal/login/code")["Location"] == "/portal/login"
