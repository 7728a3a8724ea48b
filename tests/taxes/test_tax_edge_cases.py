"""Tax edge cases on real invoices (subscribe, usage, period close by the beat tasks, finalized):
domestic B2B with a valid VAT number against intra-EU reverse charge, taxes landing exactly on
half a minor unit (USD, JPY, KWD), a rate change on the very day it takes effect in the
customer's time zone. Each test kills a fault listed in docs/testing.md."""

from decimal import Decimal

import pytest

from core.services import organization_update
from customers.services import customer_upsert
from invoices.documents import invoice_html_render
from taxes.selectors import REVERSE_CHARGE_MENTION
from taxes.services import tax_create
from tests.billing_clock import at, fee_lines, rates, run_beat, send, subscribe, totals
from tests.factories import make_metric, make_plan, standard_charge

pytestmark = pytest.mark.django_db


# --- domestic B2B is not reverse charge --------------------------------------------------------


def _french_seller_invoice(customer: dict):
    """A French seller; 4,321 calls at EUR 0.005 in April, closed on May 1."""
    organization_update(
        data={"name": "Demo AI SAS", "country": "FR", "tax_identification_number": "FR40303265045"}
    )
    calls = make_metric("calls")
    make_plan("calls_eur", 0, currency="EUR", charges=[standard_charge(calls, "0.005")])
    customer_upsert(
        data={"external_id": "cust", "currency": "EUR", "customer_type": "company", **customer}
    )
    subscribe(at(2024, 4, 1), "calls_eur")
    send(at(2024, 4, 10), "calls", 4321)
    [invoice] = run_beat(at(2024, 5, 1, 0, 5))
    assert invoice.status == "finalized"
    return invoice


def test_french_business_with_a_valid_french_number_pays_french_vat():
    invoice = _french_seller_invoice(
        {"country": "FR", "tax_identification_number": "FR96552100554"}
    )
    # 4,321 x EUR 0.005 = EUR 21.605 = 2,160.5 cents -> 2,161 (half-up)
    # TVA 20 % x 2,161 = 432.2 -> 432; total 2,161 + 432 = 2,593
    assert fee_lines(invoice) == [("Calls", 2161, 0, 432)]
    assert rates(invoice) == [("vat_fr", Decimal(20), 2161, 432)]
    assert totals(invoice) == (2161, 0, 0, 2161, 432, 2593)
    assert invoice.tax_details["customer_tax_id_valid"] is True  # valid, and still domestic
    assert invoice.tax_details["reverse_charge"] is False
    assert invoice.applied_taxes.get().mention == ""
    assert "Reverse charge" not in invoice_html_render(invoice=invoice)


def test_german_business_with_a_valid_number_is_reverse_charged_with_the_legal_mention():
    invoice = _french_seller_invoice({"country": "DE", "tax_identification_number": "DE136695976"})
    # same EUR 21.61 of calls, no VAT: the German buyer accounts for it
    assert fee_lines(invoice) == [("Calls", 2161, 0, 0)]
    assert rates(invoice) == [("vat_reverse_charge", Decimal(0), 2161, 0)]
    assert totals(invoice) == (2161, 0, 0, 2161, 0, 2161)
    assert invoice.tax_details["reverse_charge"] is True
    assert invoice.applied_taxes.get().mention == REVERSE_CHARGE_MENTION
    html = invoice_html_render(invoice=invoice)
    assert "Reverse charge" in html and "DE136695976" in html


def test_an_explicit_tax_code_overrides_reverse_charge_and_its_flag():
    """The customer carries an explicit tax code: the invoice charges it, and does not claim to
    be reverse charged (flag and mention follow what was applied, not the automatic rule)."""
    tax_create(data={"code": "vat_fr_std", "name": "TVA", "rate": "20"})
    invoice = _french_seller_invoice(
        {"country": "DE", "tax_identification_number": "DE136695976", "tax_codes": ["vat_fr_std"]}
    )
    assert rates(invoice) == [("vat_fr_std", Decimal(20), 2161, 432)]
    assert invoice.tax_details["reverse_charge"] is False
    assert "Reverse charge" not in invoice_html_render(invoice=invoice)


# --- taxes on half a minor unit ----------------------------------------------------------------


def _us_buyer_in_california():
    organization_update(data={"country": "US", "us_tax_states": ["CA"]})
    return {"country": "US", "state": "CA"}


def _japanese_buyer():
    tax_create(data={"code": "jct_10", "name": "JCT 10%", "rate": "10"})
    return {"country": "JP", "tax_codes": ["jct_10"]}


def _kuwaiti_buyer():
    tax_create(data={"code": "vat_kw_5", "name": "VAT 5%", "rate": "5"})
    return {"country": "KW", "tax_codes": ["vat_kw_5"]}


CA_SALES_TAX = ("sales_tax_us_ca", Decimal("7.25"))
JCT = ("jct_10", Decimal(10))
KW_VAT = ("vat_kw_5", Decimal(5))


@pytest.mark.parametrize(
    ("currency", "unit_price", "buyer", "units", "expected_taxes", "breakdown"),
    [
        # CA sales tax 7.25 %: 200 c -> 14.5 -> 15; 62 c -> 4.495 -> 4; 338 c -> 24.505 -> 25
        # (truncation gives 14 and 24; half-even gives 14); breakdown 15 + 4 + 25 = 44
        pytest.param(
            "USD", "0.01", _us_buyer_in_california, [200, 62, 338], [15, 4, 25],
            (*CA_SALES_TAX, 600, 44), id="USD",
        ),
        # JCT 10 %: 1,005 yen -> 100.5 -> 101; 1,004 -> 100.4 -> 100; 1,006 -> 100.6 -> 101
        # breakdown 101 + 100 + 101 = 302
        pytest.param(
            "JPY", "1", _japanese_buyer, [1005, 1004, 1006], [101, 100, 101],
            (*JCT, 3015, 302), id="JPY",
        ),
        # 5 %: 1,010 fils -> 50.5 -> 51; 1,009 -> 50.45 -> 50; 1,011 -> 50.55 -> 51
        # breakdown 51 + 50 + 51 = 152
        pytest.param(
            "KWD", "0.001", _kuwaiti_buyer, [1010, 1009, 1011], [51, 50, 51],
            (*KW_VAT, 3030, 152), id="KWD",
        ),
    ],
)  # fmt: skip
def test_tax_on_a_half_minor_unit_rounds_half_up_per_fee(
    currency, unit_price, buyer, units, expected_taxes, breakdown
):
    names = ["requests", "images", "minutes"]
    metrics = [make_metric(name) for name in names]
    make_plan(
        "usage",
        0,
        currency=currency,
        charges=[standard_charge(metric, unit_price) for metric in metrics],
    )
    customer_upsert(data={"external_id": "cust", "currency": currency, **buyer()})
    subscribe(at(2024, 4, 1), "usage")
    for name, count in zip(names, units, strict=True):
        send(at(2024, 4, 15), name, count)
    [invoice] = run_beat(at(2024, 5, 1, 0, 5))
    # one unit = one minor unit: each fee is its units, taxed on its own and rounded half-up
    assert fee_lines(invoice) == [
        (name.title(), count, 0, tax)
        for name, count, tax in zip(names, units, expected_taxes, strict=True)
    ]
    assert rates(invoice) == [breakdown]
    fees, taxes = sum(units), sum(expected_taxes)
    assert totals(invoice) == (fees, 0, 0, fees, taxes, fees + taxes)


# --- a rate on the day it takes effect ---------------------------------------------------------


def test_a_new_rate_applies_from_its_first_day_in_the_customer_time_zone():
    """Finland's standard VAT went from 24 % to 25.5 % on 2024-09-01 (taxes/data/tax_rules.csv).
    The rate is the one in force on the issuing date, the customer's local day of the boundary."""
    organization_update(data={"country": "FI"})
    make_plan("fi_monthly", 1100, currency="EUR")
    customer_upsert(
        data={
            "external_id": "cust",
            "currency": "EUR",
            "country": "FI",
            "customer_type": "individual",
            "timezone": "Europe/Helsinki",  # UTC+3 in summer
        }
    )
    # anniversary from Jul 31 (local midnight): its first period ends on Aug 31, local midnight
    subscribe(at(2024, 7, 30, 21), "fi_monthly", external_id="anniv", billing_time="anniversary")
    # calendar from Aug 1 (local midnight): its first period ends on Sep 1, local midnight
    subscribe(at(2024, 7, 31, 21), "fi_monthly", external_id="calendar")

    [day_before] = run_beat(at(2024, 8, 30, 21, 1))  # Aug 31 00:01 in Helsinki
    assert day_before.issuing_date.isoformat() == "2024-08-31"
    # 24 % x 1,100 = 264
    assert rates(day_before) == [("vat_fi", Decimal(24), 1100, 264)]
    assert totals(day_before) == (1100, 0, 0, 1100, 264, 1364)

    assert run_beat(at(2024, 8, 31, 20, 59)) == []  # Aug 31 23:59 in Helsinki: not yet
    [first_day] = run_beat(at(2024, 8, 31, 21, 1))  # Sep 1 00:01 in Helsinki, Aug 31 in UTC
    assert first_day.issuing_date.isoformat() == "2024-09-01"
    # 25.5 % x 1,100 = 280.5 -> 281 (half-up)
    assert rates(first_day) == [("vat_fi", Decimal("25.5"), 1100, 281)]
    assert totals(first_day) == (1100, 0, 0, 1100, 281, 1381)
