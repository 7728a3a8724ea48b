"""Automatic tax selection corners that mutation testing found unchecked (docs/testing.md,
"Mutation testing"): a VAT number of another country, the online VIES check (confirms, denies,
unavailable, not asked for a malformed number), a consumer with a VAT number, a seller outside
the EU, what tax_details say when there is no number."""

from decimal import Decimal

import pytest

from core.selectors import organization_get
from core.services import organization_update
from customers.services import customer_upsert
from tests.billing_clock import at, rates, run_beat, send, subscribe
from tests.factories import make_metric, make_plan, standard_charge

pytestmark = pytest.mark.django_db

VALID_FR = "FR40303265045"
VALID_DE = "DE136695976"


def invoice_of(customer: dict, seller_country="FR", vies=False):
    """EUR 100.00 of calls in January 2025, closed on February 1."""
    organization_update(data={"name": "Seller", "country": seller_country})
    if vies:
        organization = organization_get()
        organization.vies_check_enabled = True
        organization.save()
    calls = make_metric("calls")
    make_plan("usage", 0, currency="EUR", charges=[standard_charge(calls, "1")])
    customer_upsert(data={"external_id": "cust", "currency": "EUR", **customer})
    subscribe(at(2025, 1, 1), "usage")
    send(at(2025, 1, 10), "calls", 100)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    return january


@pytest.fixture
def vies(monkeypatch):
    """The online check, answering per number; records what it was asked."""
    answers, asked = {}, []

    def confirms(number):
        asked.append(number)
        return answers.get(number)

    monkeypatch.setattr("taxes.vat.vies_confirms", confirms)
    return answers, asked


REVERSE_CHARGE = [("vat_reverse_charge", Decimal(0), 10000, 0)]
GERMAN_VAT = [("vat_de", Decimal(19), 10000, 1900)]


def test_a_valid_number_of_another_country_is_not_the_customers():
    # a German company giving a (valid) French number: not valid for Germany, German VAT
    invoice = invoice_of(
        {"country": "DE", "customer_type": "company", "tax_identification_number": VALID_FR}
    )
    assert rates(invoice) == GERMAN_VAT
    assert invoice.tax_details["customer_tax_id_valid"] is False
    assert invoice.tax_details["notes"] == [
        f"The VAT number {VALID_FR} is not valid; VAT was charged."
    ]


def test_vies_confirms_the_number(vies):
    answers, asked = vies
    answers[VALID_DE] = True
    invoice = invoice_of({"country": "DE", "tax_identification_number": VALID_DE}, vies=True)
    assert rates(invoice) == REVERSE_CHARGE
    assert asked and set(asked) == {VALID_DE}


def test_vies_denies_the_number(vies):
    answers, _ = vies
    answers[VALID_DE] = False
    invoice = invoice_of({"country": "DE", "tax_identification_number": VALID_DE}, vies=True)
    assert rates(invoice) == GERMAN_VAT
    assert invoice.tax_details["customer_tax_id_valid"] is False
    assert invoice.tax_details["notes"] == [
        f"The VAT number {VALID_DE} is not valid; VAT was charged."
    ]


def test_vies_unavailable_never_blocks_the_reverse_charge(vies):
    _, asked = vies  # no answer: VIES is down
    invoice = invoice_of({"country": "DE", "tax_identification_number": VALID_DE}, vies=True)
    assert rates(invoice) == REVERSE_CHARGE
    assert invoice.tax_details["customer_tax_id_valid"] is True
    assert asked


def test_vies_is_not_asked_about_a_malformed_number(vies):
    _, asked = vies
    invoice = invoice_of({"country": "DE", "tax_identification_number": "DE000"}, vies=True)
    assert rates(invoice) == GERMAN_VAT
    assert asked == []


def test_an_individual_with_a_valid_vat_number_is_reverse_charged():
    # the VAT number makes the buyer a business, whatever customer_type says
    invoice = invoice_of(
        {"country": "DE", "customer_type": "individual", "tax_identification_number": VALID_DE}
    )
    assert rates(invoice) == REVERSE_CHARGE


def test_a_seller_outside_the_eu_charges_no_eu_vat():
    invoice = invoice_of({"country": "DE", "customer_type": "individual"}, seller_country="GB")
    assert rates(invoice) == []
    assert invoice.taxes_amount_cents == 0


@pytest.mark.parametrize(
    "customer",
    [
        {"country": "DE", "customer_type": "individual"},  # EU, no number
        {"country": "US", "state": "TX", "tax_identification_number": "12-3456789"},  # not EU
    ],
)
def test_no_eu_number_means_no_validity_either_way(customer):
    invoice = invoice_of(customer)
    assert invoice.tax_details["customer_tax_id_valid"] is None
    assert invoice.tax_details["notes"] == []
