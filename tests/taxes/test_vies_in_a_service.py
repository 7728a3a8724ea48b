"""The online VIES check is a service (`tax_id_verdict`); the tax-context selector makes no
network call and takes the verdict it is given."""

from datetime import date

import pytest

from core.selectors import organization_get
from core.services import organization_update
from customers.models import Customer
from taxes.selectors import tax_context
from taxes.services import tax_id_verdict

pytestmark = pytest.mark.django_db
VALID_DE = "DE136695976"


@pytest.fixture
def german_company():
    organization_update(data={"name": "Seller", "country": "FR"})
    organization = organization_get()
    organization.vies_check_enabled = True
    organization.save()
    return Customer.objects.create(
        external_id="c1", name="GmbH", country="DE", tax_identification_number=VALID_DE
    )


@pytest.fixture
def vies(monkeypatch):
    """The online check (the internet), answering False; records what it was asked."""
    asked = []

    def confirms(number):
        asked.append(number)
        return False

    monkeypatch.setattr("taxes.vat.vies_confirms", confirms)
    return asked


def test_the_verdict_service_asks_vies_about_an_offline_valid_number(german_company, vies):
    assert tax_id_verdict(customer=german_company) is False
    assert vies == [VALID_DE]


def test_the_verdict_is_none_without_a_number_and_vies_is_not_asked(german_company, vies):
    german_company.tax_identification_number = ""
    assert tax_id_verdict(customer=german_company) is None
    assert vies == []


def test_the_tax_context_selector_uses_the_given_verdict_and_asks_nobody(german_company, vies):
    context = tax_context(customer=german_company, on=date(2025, 1, 31), tax_id_valid=True)

    assert vies == []
    assert (context.customer_country, context.tax_id, context.tax_id_valid) == (
        "DE",
        VALID_DE,
        True,
    )
    assert context.business is True
