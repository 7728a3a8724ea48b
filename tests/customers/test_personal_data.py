"""GDPR: everything held about a customer as a ZIP; erasure of personal data that keeps the
invoices, audited, allowed to billing admins only."""

import io
import json
import zipfile

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core import roles
from core.models import AuditEntry
from customers.models import Customer
from customers.services import customer_upsert
from invoices.models import Invoice
from portal.models import PortalAccount
from tests.payments.helpers import finalized_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(api):
    customer, _ = customer_upsert(
        data={
            "external_id": "acme",
            "name": "Jane Roe",
            "email": "jane@roe.example",
            "customer_type": "individual",
            "address_line1": "1 Main St",
            "city": "Springfield",
            "country": "US",
            "currency": "USD",
            "tax_identification_number": "123",
            "metadata": [{"key": "phone_note", "value": "call after 5"}],
        }
    )
    invoice = finalized_invoice()
    user = get_user_model().objects.create_user("jane@roe.example", "jane@roe.example", "pw")
    PortalAccount.objects.create(user=user, customer=customer)
    return customer, invoice


def test_the_export_holds_everything_about_the_customer(admin_client, person):
    customer, invoice = person
    response = admin_client.get(f"/admin/customers/customer/{customer.pk}/personal-data/export/")
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {
        "customer.json",
        "subscriptions.json",
        "invoices.json",
        "credit_notes.json",
        "wallets.json",
        "payments.json",
        "portal_logins.json",
        "audit.json",
        "events.jsonl",
        f"invoices/{invoice.number}.pdf",
    } <= names
    assert json.loads(archive.read("customer.json"))["email"] == "jane@roe.example"
    assert json.loads(archive.read("invoices.json"))[0]["number"] == invoice.number
    assert archive.read(f"invoices/{invoice.number}.pdf").startswith(b"%PDF")
    assert json.loads(archive.read("portal_logins.json"))[0]["email"] == "jane@roe.example"


def test_erasure_replaces_personal_data_and_keeps_invoices(admin_client, person):
    customer, invoice = person
    url = f"/admin/customers/customer/{customer.pk}/personal-data/erase/"
    assert "This cannot be undone." in admin_client.get(url).content.decode()
    admin_client.post(url)
    customer.refresh_from_db()
    assert customer.name == f"Erased customer {customer.pk}"
    assert (customer.email, customer.address_line1, customer.city) == ("", "", "")
    assert customer.tax_identification_number == ""  # an individual's
    assert customer.country == "US" and customer.personal_data_erased_at
    assert not customer.metadata.exists() and not PortalAccount.objects.exists()
    assert not get_user_model().objects.filter(email="jane@roe.example").exists()
    assert Invoice.objects.get(pk=invoice.pk).number == invoice.number
    entry = AuditEntry.objects.filter(object_type="customers.customer", action="updated").last()
    assert entry.reason == "GDPR erasure of personal data" and entry.actor == "staff:admin"
    assert "jane" not in json.dumps(entry.changes).lower()
    again = admin_client.post(url, follow=True)
    assert "personal data is erased already" in again.content.decode()


def test_only_billing_admins_handle_personal_data(client, person):
    customer, _ = person
    user = get_user_model().objects.create_user("op", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.OPERATOR))
    client.force_login(user)
    assert (
        client.get(f"/admin/customers/customer/{customer.pk}/personal-data/export/").status_code
        == 403
    )
    assert (
        client.post(f"/admin/customers/customer/{customer.pk}/personal-data/erase/").status_code
        == 403
    )
    assert Customer.objects.get(pk=customer.pk).email == "jane@roe.example"
