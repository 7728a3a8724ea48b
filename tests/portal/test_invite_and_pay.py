"""Portal logins come by invitation from the admin (a link to choose a password), can be
reset by e-mail; unpaid invoices can be paid now when Stripe is on."""

import re

import pytest

from payments.services import customer_provider_sync
from portal.models import PortalAccount
from tests.payments.helpers import DECLINES, card, give_card
from tests.portal.world import PASSWORD

pytestmark = pytest.mark.django_db


def link_in(mail) -> str:
    return re.search(r"http://[^\s]+/portal/set-password/\S+", mail.body).group(0)


def test_an_invitation_from_the_admin_sets_a_password_and_logs_in(
    admin_client, client, world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/portal/portalaccount/add/",
            {"customer": world.acme.pk, "email": "New.Person@acme.example"},
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    account = PortalAccount.objects.get(user__email="new.person@acme.example")
    assert account.customer == world.acme and not account.user.has_usable_password()
    [mail] = mailoutbox
    assert mail.to == ["new.person@acme.example"] and "Acme AI" in mail.subject
    path = link_in(mail).removeprefix("http://127.0.0.1:8000")
    form = client.get(path, follow=True)
    assert "Choose a password" in form.content.decode()
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "a brand new passphrase 9", "new_password2": "a brand new passphrase 9"},
    )
    assert done.status_code == 302
    login = client.post(
        "/portal/login",
        {"username": "new.person@acme.example", "password": "a brand new passphrase 9"},
    )
    assert login.status_code == 302
    assert world.acme_invoice.number in client.get("/portal/invoices").content.decode()
    assert client.get(path, follow=True).context["validlink"] is False  # used once


def test_the_admin_refuses_a_staff_address_or_another_customers_user(admin_client, world):
    response = admin_client.post(
        "/admin/portal/portalaccount/add/", {"customer": world.acme.pk, "email": "ap@other.example"}
    )
    assert "already logs in for another customer" in response.content.decode()
    response = admin_client.post(
        "/admin/portal/portalaccount/add/",
        {"customer": world.acme.pk, "email": "admin@example.com"},
    )
    assert "staff login" in response.content.decode()


def test_password_reset_reaches_portal_users_only(client, world, admin_user, mailoutbox):
    client.post("/portal/password-reset", {"email": "ap@acme.example"})
    client.post("/portal/password-reset", {"email": "admin@example.com"})
    [mail] = mailoutbox
    assert mail.to == ["ap@acme.example"]
    path = re.search(r"/portal/set-password/\S+", mail.body).group(0)
    form = client.get(path, follow=True)
    client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "another passphrase 42", "new_password2": "another passphrase 42"},
    )
    assert (
        client.post(
            "/portal/login", {"username": "ap@acme.example", "password": "another passphrase 42"}
        ).status_code
        == 302
    )


@pytest.fixture
def stripe_acme(world, stripe_on):
    from customers.services import customer_upsert

    customer, _ = customer_upsert(
        data={"external_id": "acme", "billing_configuration": {"payment_provider": "stripe"}}
    )
    customer_provider_sync(customer=customer)
    customer.refresh_from_db()
    return customer


def test_pay_now_charges_the_card_on_file(acme_client, world, stripe_acme):
    give_card(stripe_acme, card(DECLINES))
    page = acme_client.get(f"/portal/invoices/{world.acme_invoice.lago_id}").content.decode()
    assert "Pay now" in page
    failed = acme_client.post(f"/portal/invoices/{world.acme_invoice.lago_id}/pay", follow=True)
    assert "The payment did not go through" in failed.content.decode()
    give_card(stripe_acme, "pm_card_visa")
    paid = acme_client.post(f"/portal/invoices/{world.acme_invoice.lago_id}/pay", follow=True)
    assert "Thank you: the invoice is paid." in paid.content.decode()
    world.acme_invoice.refresh_from_db()
    assert world.acme_invoice.payment_status == "succeeded"
    assert "Pay now" not in paid.content.decode()


def test_pay_now_without_a_card_goes_to_the_payment_method_page(acme_client, world, stripe_acme):
    response = acme_client.post(f"/portal/invoices/{world.acme_invoice.lago_id}/pay")
    assert "/billing/payment-method/" in response["Location"]


def test_the_password_can_be_changed(acme_client):
    response = acme_client.post(
        "/portal/account",
        {
            "old_password": PASSWORD,
            "new_password1": "fresh passphrase 11",
            "new_password2": "fresh passphrase 11",
        },
    )
    assert response.status_code == 302
    assert acme_client.get("/portal/").status_code == 200  # still logged in
