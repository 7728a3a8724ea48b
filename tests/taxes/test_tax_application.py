"""Invoices a tax auditor accepts: VAT by country, EU reverse charge for valid VAT numbers,
OSS rates for consumers, US sales tax where the seller is registered; JPY and KWD amounts;
rate changes by effective date; explicit tax codes by precedence."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from core.services import organization_update
from customers.services import customer_upsert, subscription_create
from invoices.documents import invoice_html_render
from invoices.services import subscription_bill_due
from taxes.models import TaxRule
from taxes.services import tax_create
from tests.factories import make_plan

pytestmark = pytest.mark.django_db


def at(*args):
    return datetime(*args, tzinfo=UTC)


def invoice_for(customer: dict, amount_cents=10000, currency="USD", plan_extra=None):
    """A month of a plan worth `amount_cents`, invoiced at the period end."""
    make_plan(f"plan_{currency.lower()}", amount_cents, currency=currency, **(plan_extra or {}))
    customer_upsert(data={"external_id": "cust", "currency": currency, **customer})
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription = subscription_create(
            data={
                "external_customer_id": "cust",
                "plan_code": f"plan_{currency.lower()}",
                "external_id": "sub",
            }
        )
    [invoice] = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    return invoice


@pytest.fixture(autouse=True)
def german_seller():
    organization_update(
        data={
            "name": "Demo AI GmbH",
            "country": "DE",
            "tax_identification_number": "DE136695976",
            "us_tax_states": ["CA", "NY"],
        }
    )


def applied(invoice):
    return [
        (t.tax_code, t.tax_rate, t.fees_amount_cents, t.amount_cents)
        for t in invoice.applied_taxes.all()
    ]


def test_german_consumer_pays_19_percent():
    invoice = invoice_for({"country": "DE", "customer_type": "individual"})
    assert applied(invoice) == [("vat_de", Decimal(19), 10000, 1900)]
    assert (invoice.taxes_amount_cents, invoice.total_amount_cents) == (1900, 11900)


def test_french_business_with_a_valid_vat_number_is_reverse_charged():
    invoice = invoice_for(
        {"country": "FR", "customer_type": "company", "tax_identification_number": "FR40303265045"}
    )
    assert applied(invoice) == [("vat_reverse_charge", Decimal(0), 10000, 0)]
    assert invoice.total_amount_cents == 10000
    assert invoice.tax_details["reverse_charge"] is True
    html = invoice_html_render(invoice=invoice)
    assert "Reverse charge" in html and "FR40303265045" in html


def test_french_business_with_an_invalid_number_pays_french_vat_and_it_is_reported():
    invoice = invoice_for(
        {"country": "FR", "customer_type": "company", "tax_identification_number": "FR00000000000"}
    )
    assert applied(invoice) == [("vat_fr", Decimal(20), 10000, 2000)]
    assert invoice.tax_details["customer_tax_id_valid"] is False
    assert "FR00000000000 is not valid" in invoice_html_render(invoice=invoice)


def test_us_customer_in_a_registered_state_pays_its_sales_tax():
    invoice = invoice_for({"country": "US", "state": "CA"})
    assert applied(invoice) == [("sales_tax_us_ca", Decimal("7.25"), 10000, 725)]


def test_us_customer_in_an_unregistered_state_pays_none():
    invoice = invoice_for({"country": "US", "state": "TX"})
    assert applied(invoice) == [] and invoice.taxes_amount_cents == 0


def test_japanese_customer_in_jpy_has_no_decimals():
    invoice = invoice_for({"country": "JP"}, amount_cents=12345, currency="JPY")
    assert (invoice.currency, invoice.total_amount_cents) == ("JPY", 12345)
    assert "¥12,345" in invoice_html_render(invoice=invoice)


def test_kuwaiti_customer_in_kwd_has_three_decimals():
    invoice = invoice_for(
        {"country": "KW"}, amount_cents=1000, currency="KWD", plan_extra={"pay_in_advance": False}
    )
    assert invoice.total_amount_cents == 1000  # 1.000 KWD
    assert "1.000" in invoice_html_render(invoice=invoice)


def test_a_rate_change_applies_only_to_invoices_issued_after_it():
    TaxRule.objects.create(
        kind="vat",
        country="DE",
        region="",
        rate=Decimal(21),
        name="MwSt DE 21%",
        effective_from=date(2024, 5, 2),
    )
    may = invoice_for({"country": "DE", "customer_type": "individual"})
    assert applied(may)[0][1] == Decimal(19)  # issued 2024-05-01
    [june] = subscription_bill_due(
        subscription_id=may.billings.get().subscription_id, now=at(2024, 6, 1, 0, 1)
    )
    assert applied(june)[0][1] == Decimal(21)


def test_explicit_tax_codes_win_over_the_rules_most_specific_first():
    tax_create(data={"code": "custom_10", "name": "Custom 10%", "rate": "10"})
    tax_create(data={"code": "plan_5", "name": "Plan 5%", "rate": "5"})
    invoice = invoice_for(
        {"country": "DE", "tax_codes": ["custom_10"]}, plan_extra={"tax_codes": ["plan_5"]}
    )
    assert applied(invoice) == [("plan_5", Decimal(5), 10000, 500)]


def test_organization_default_tax_applies_when_nothing_else_is_named():
    tax_create(
        data={
            "code": "default_8",
            "name": "Default 8%",
            "rate": "8",
            "applied_to_organization": True,
        }
    )
    invoice = invoice_for({"country": "JP"})
    assert applied(invoice) == [("default_8", Decimal(8), 10000, 800)]


def test_tax_api_round_trip(api):
    created = api.post("/api/v1/taxes", {"tax": {"code": "vat20", "name": "VAT", "rate": 20.0}})
    assert created.json()["tax"]["rate"] == 20.0
    assert api.put("/api/v1/taxes/vat20", {"tax": {"rate": 21}}).json()["tax"]["rate"] == 21.0
    bad = api.post("/api/v1/taxes", {"tax": {"code": "x", "name": "X", "rate": 120}})
    assert bad.status_code == 422 and bad.json()["error_details"] == {"rate": ["value_is_invalid"]}
    assert api.delete("/api/v1/taxes/vat20").status_code == 200
    assert api.get("/api/v1/taxes/vat20").json()["code"] == "tax_not_found"


def test_organization_command_sets_the_seller(capsys):
    from django.core.management import call_command

    call_command(
        "organization",
        "--country",
        "FR",
        "--tax-id",
        "FR40303265045",
        "--base-currency",
        "eur",
        "--us-tax-states",
        "ca, ny",
    )
    out = capsys.readouterr().out
    assert "country: FR" in out and "default_currency: EUR" in out
    assert "us_tax_states: ['CA', 'NY']" in out


def test_organization_command_refuses_a_bad_country():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("organization", "--country", "XX")
