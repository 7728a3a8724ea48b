"""The customer's edit page: the shipping address part by part and the tax codes picked from
the taxes that exist, not JSON boxes (issue 18)."""

import pytest
from django.urls import reverse

from customers.models import Customer
from customers.services import customer_upsert
from taxes.models import Tax

pytestmark = pytest.mark.django_db


def _post(admin_client, customer: Customer, **changes):
    page = admin_client.get(reverse("admin:customers_customer_change", args=[customer.pk]))
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is None:
            continue
        data[name] = value
    data.update(changes)
    data = {k: v for k, v in data.items() if v not in (None, False)}
    data |= {
        "metadata-TOTAL_FORMS": "0",
        "metadata-INITIAL_FORMS": "0",
        "subscriptions-TOTAL_FORMS": "0",
        "subscriptions-INITIAL_FORMS": "0",
    }
    return admin_client.post(reverse("admin:customers_customer_change", args=[customer.pk]), data)


def test_the_page_has_fields_not_json_boxes(admin_client):
    Tax.objects.create(code="vat_fr", name="TVA", rate=20)
    customer, _ = customer_upsert(data={"external_id": "acme", "name": "Acme", "currency": "EUR"})
    html = admin_client.get(
        reverse("admin:customers_customer_change", args=[customer.pk])
    ).content.decode()
    assert 'name="shipping_city"' in html and 'type="checkbox" name="tax_codes"' in html
    assert "TVA (vat_fr)" in html
    assert '<textarea name="shipping_address"' not in html
    assert '<textarea name="tax_codes"' not in html


def test_saving_builds_the_address_and_the_tax_codes(admin_client):
    Tax.objects.create(code="vat_fr", name="TVA", rate=20)
    Tax.objects.create(code="eco", name="Eco", rate=1)
    customer, _ = customer_upsert(data={"external_id": "acme", "name": "Acme", "currency": "EUR"})
    response = _post(
        admin_client,
        customer,
        shipping_address_line1="5 rue de la Paix",
        shipping_city="Paris",
        shipping_zipcode="75002",
        shipping_country="FR",
        tax_codes=["vat_fr"],
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    customer.refresh_from_db()
    assert customer.shipping_address == {
        "address_line1": "5 rue de la Paix",
        "city": "Paris",
        "zipcode": "75002",
        "country": "FR",
    }
    assert customer.tax_codes == ["vat_fr"]
