"""The three staff roles, created by a migration: what each can and cannot see and do."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import roles
from customers.services import customer_upsert
from invoices.models import CreditNote
from tests.payments.helpers import finalized_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def invoice(db):
    customer_upsert(data={"external_id": "acme", "name": "Acme", "currency": "USD"})
    return finalized_invoice(4200)


def staff(client, role: str):
    user = get_user_model().objects.create_user(role.split()[-1], password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return client


def test_the_migration_created_the_groups():
    names = set(Group.objects.values_list("name", flat=True))
    assert {roles.VIEWER, roles.OPERATOR, roles.ADMIN} <= names
    viewer = Group.objects.get(name=roles.VIEWER)
    assert (
        not viewer.permissions.exclude(codename__startswith="view_")
        .exclude(codename__in=["export_auditentry", "simulate_pricing"])
        .exists()
    )


def page(client, url: str) -> tuple[int, str]:
    response = client.get(url)
    return response.status_code, response.content.decode()


def credit_note(client, invoice, cents: int):
    fee = invoice.fees.get()
    return client.post(
        f"/admin/invoices/invoice/{invoice.pk}/credit-note/",
        {"reason": "other", f"fee_{fee.lago_id}": cents, "issue": "1"},
        follow=True,
    )


def test_a_finance_viewer_reads_everything_and_changes_nothing(client, invoice):
    staff(client, roles.VIEWER)
    status, html = page(client, f"/admin/invoices/invoice/{invoice.pk}/change/")
    assert status == 200 and ">Void<" not in html and "Issue credit note" not in html
    assert page(client, "/admin/customers/customer/")[0] == 200
    assert page(client, "/admin/customers/customer/add/")[0] == 403
    assert client.post(f"/admin/invoices/invoice/{invoice.pk}/do/void/").status_code == 403
    assert page(client, f"/admin/invoices/invoice/{invoice.pk}/credit-note/")[0] == 403
    assert page(client, "/admin/core/apikey/add/")[0] == 403
    assert page(client, "/admin/taxes/taxrule/1/change/")[1].count('name="confirm"') == 0


def test_a_billing_operator_issues_small_credit_notes_but_does_not_void(client, invoice, settings):
    settings.CREDIT_NOTE_OPERATOR_LIMIT_CENTS = 1000
    staff(client, roles.OPERATOR)
    status, html = page(client, f"/admin/invoices/invoice/{invoice.pk}/change/")
    assert status == 200 and "Issue credit note" in html and ">Void<" not in html
    assert client.post(f"/admin/invoices/invoice/{invoice.pk}/do/void/").status_code == 403
    refused = credit_note(client, invoice, 1500)
    assert "a billing admin issues it" in refused.content.decode()
    assert not CreditNote.objects.exists()
    credit_note(client, invoice, 900)
    assert CreditNote.objects.get().total_amount_cents == 900
    assert page(client, "/admin/customers/customer/add/")[0] == 200
    assert page(client, "/admin/core/apikey/add/")[0] == 403
    assert page(client, "/admin/plans/plan/add/")[0] == 403


def test_a_billing_admin_voids_and_issues_large_credit_notes_with_confirmation(
    client, invoice, settings
):
    settings.CREDIT_NOTE_OPERATOR_LIMIT_CENTS = 1000
    staff(client, roles.ADMIN)
    credit_note(client, invoice, 1500)
    assert CreditNote.objects.get().total_amount_cents == 1500
    confirm = page(client, f"/admin/invoices/invoice/{invoice.pk}/do/void/")[1]
    assert "nothing is owed on it any more" in confirm
    client.post(f"/admin/invoices/invoice/{invoice.pk}/do/void/")
    invoice.refresh_from_db()
    assert invoice.status == "voided"
    unconfirmed = client.post("/admin/core/apikey/add/", {"name": "ci"})
    assert "This field is required." in unconfirmed.content.decode()
    client.post("/admin/core/apikey/add/", {"name": "ci", "confirm": "on"})
    assert page(client, "/admin/core/apikey/")[1].count("ci") >= 1


def test_a_tax_rule_change_asks_for_confirmation(client):
    from taxes.models import TaxRule

    staff(client, roles.ADMIN)
    rule = TaxRule.objects.filter(country="FR", kind="vat").first()
    url = f"/admin/taxes/taxrule/{rule.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields if name != "confirm"}
    data["rate"] = "21.0"
    assert client.post(url, data).status_code == 200  # back with "This field is required."
    rule.refresh_from_db()
    assert str(rule.rate) != "21.0000"
    assert client.post(url, {**data, "confirm": "on"}).status_code == 302


def test_staff_without_a_role_see_nothing(client, invoice):
    user = get_user_model().objects.create_user("nobody", password="pw", is_staff=True)
    client.force_login(user)
    assert page(client, "/admin/invoices/invoice/")[0] == 403
