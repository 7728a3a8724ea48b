"""One plan, several currencies: native prices per currency, FX conversion (rounded once, rate
printed) when a currency has no price, ECB rates with cross rates, and the rounding rule."""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from core.fx import fx_rate, fx_rates_load_ecb
from core.models import FxRate
from core.money import from_minor_units, round_minor_units, to_minor_units
from customers.services import customer_upsert, subscription_create
from invoices.documents import invoice_html_render
from invoices.services import subscription_bill_due
from tests.factories import make_metric, make_plan, standard_charge
from usage.services import events_ingest


def at(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def tokens(db):
    return make_metric("tokens", field_name="tokens")


def invoice_in(currency: str, plan_code: str = "pro"):
    customer_upsert(data={"external_id": "cust", "currency": currency})
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "cust", "plan_code": plan_code, "external_id": "s"}
        )
    events_ingest(
        raws=[
            {
                "transaction_id": "t",
                "external_subscription_id": "s",
                "code": "tokens",
                "timestamp": "2024-04-10T00:00:00Z",
                "properties": {"tokens": 1000},
            }
        ],
        now=at(2024, 4, 10),
    )
    [invoice] = subscription_bill_due(subscription_id=subscription.pk, now=at(2024, 5, 1, 0, 1))
    return invoice


def test_a_plan_with_a_euro_price_bills_euros_natively(api, tokens):
    body = {
        "plan": {
            "name": "Pro",
            "code": "pro",
            "interval": "monthly",
            "amount_cents": 10000,
            "amount_currency": "USD",
            "charges": [standard_charge(tokens, "0.01")],
            "prices": [
                {
                    "currency": "EUR",
                    "amount_cents": 9000,
                    "charges": [{"charge_code": "tokens", "properties": {"amount": "0.008"}}],
                }
            ],
        }
    }
    created = api.post("/api/v1/plans", body).json()["plan"]
    assert created["prices"][0]["charges"][0]["properties"] == {"amount": "0.008"}
    invoice = invoice_in("EUR")
    assert (invoice.currency, invoice.fees_amount_cents, invoice.fx_details) == ("EUR", 9800, {})


def test_without_a_price_amounts_are_converted_once_and_the_rate_printed(tokens):
    FxRate.objects.create(base="USD", quote="EUR", rate=Decimal("0.9123"), date=date(2024, 3, 30))
    make_plan("pro", 10000, charges=[standard_charge(tokens, "0.01")])
    invoice = invoice_in("EUR")
    # $100 x 0.9123 = EUR 91.23; $10 x 0.9123 = EUR 9.123 -> 9.12 (each fee rounded once)
    assert sorted(f.amount_cents for f in invoice.fees.all()) == [912, 9123]
    assert invoice.fx_details == {
        "from": "USD",
        "to": "EUR",
        "rate": "0.9123000000",
        "date": "2024-05-01",
    }
    assert "0.9123" in invoice_html_render(invoice=invoice)


def test_no_price_and_no_rate_is_refused(db):
    from core.errors import ValidationFailed

    make_plan("pro", 10000)
    customer_upsert(data={"external_id": "cust", "currency": "CHF"})
    with pytest.raises(ValidationFailed) as error:
        subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "s"}
        )
    assert error.value.errors == {"currency": ["currencies_does_not_match"]}


def test_ecb_rates_with_cross_rates(db, tmp_path: Path):
    source = tmp_path / "eurofxref-hist.csv"
    source.write_text(
        "Date,USD,JPY,GBP,\n2024-05-02,1.0712,164.91,0.8556,\n2024-05-01,1.0701,168.36,0.8555,\n"
    )
    assert fx_rates_load_ecb(path=source) == 6
    assert fx_rate(base="EUR", quote="USD", on=date(2024, 5, 3)) == Decimal("1.0712")
    assert fx_rate(base="USD", quote="EUR", on=date(2024, 5, 1)) == 1 / Decimal("1.0701")
    usd_jpy = fx_rate(base="USD", quote="JPY", on=date(2024, 5, 2))
    assert abs(usd_jpy - Decimal("164.91") / Decimal("1.0712")) < Decimal("1e-20")


CURRENCIES = st.sampled_from(["JPY", "KRW", "USD", "EUR", "KWD", "BHD", "TND"])
PRECISE = st.decimals(min_value=0, max_value=10**9, allow_nan=False, places=9)
RATES = st.decimals(min_value=0, max_value=30, allow_nan=False, places=4)


@settings(max_examples=300)
@given(
    st.lists(PRECISE, min_size=1, max_size=20), st.lists(RATES, min_size=1, max_size=3), CURRENCIES
)
def test_rounding_rule_total_is_the_sum_of_lines_each_within_half_a_minor_unit(
    precise_lines, rates, currency
):
    """Each fee rounded half-up once; each tax on the rounded fee, rounded per fee and rate;
    the total is the sum of the rounded parts."""
    half = from_minor_units(Decimal("0.5"), currency)
    fees = [to_minor_units(amount, currency) for amount in precise_lines]
    for amount, cents in zip(precise_lines, fees, strict=True):
        assert abs(from_minor_units(cents, currency) - amount) <= half
    taxes = [[round_minor_units(Decimal(cents) * rate / 100) for rate in rates] for cents in fees]
    for cents, per_rate in zip(fees, taxes, strict=True):
        for rate, tax in zip(rates, per_rate, strict=True):
            assert abs(Decimal(tax) - Decimal(cents) * rate / 100) <= Decimal("0.5")
    total = sum(fees) + sum(sum(per_rate) for per_rate in taxes)
    assert total == sum(fees) + sum(tax for per_rate in taxes for tax in per_rate)


def test_revenue_by_currency_and_in_base_currency(admin_client, tokens):
    from django.urls import reverse

    from core.services import organization_update
    from invoices.selectors import revenue_by_month

    organization_update(data={"default_currency": "USD"})
    FxRate.objects.create(base="EUR", quote="USD", rate=Decimal("1.1"), date=date(2024, 5, 31))
    make_plan(
        "pro",
        10000,
        charges=[standard_charge(tokens, "0.01")],
        prices=[{"currency": "EUR", "amount_cents": 9000}],
    )
    FxRate.objects.create(base="USD", quote="EUR", rate=Decimal("0.9"), date=date(2024, 3, 1))
    invoice_in("EUR")
    [row] = revenue_by_month()
    # EUR 90 base + 1,000 tokens at $0.01 x 0.9 = EUR 9 -> EUR 99 = $108.90
    assert (row.currency, row.revenue_cents, row.base_revenue_cents) == ("EUR", 9900, 10890)
    page = admin_client.get(reverse("admin:invoices_invoice_revenue")).content.decode()
    assert "$108.90" in page and "€99.00" in page


def test_a_spending_minimum_in_the_plan_currency_is_converted_even_with_native_prices(api, tokens):
    """The charge has a EUR price, but its min_amount_cents is in the plan's USD: $30.01 at
    0.9 = EUR 27.009; usage 1,000 x EUR 0.008 = 8.00; true-up 19.009 -> 19.01 (not 22.01)."""
    FxRate.objects.create(base="USD", quote="EUR", rate=Decimal("0.9"), date=date(2024, 3, 30))
    charge = standard_charge(tokens, "0.01", min_amount_cents=3001)
    body = {
        "plan": {
            "name": "Pro",
            "code": "pro",
            "interval": "monthly",
            "amount_cents": 0,
            "amount_currency": "USD",
            "charges": [charge],
            "prices": [
                {
                    "currency": "EUR",
                    "amount_cents": 0,
                    "charges": [{"charge_code": "tokens", "properties": {"amount": "0.008"}}],
                }
            ],
        }
    }
    assert api.post("/api/v1/plans", body, format="json").status_code == 200
    invoice = invoice_in("EUR")
    assert sorted(f.amount_cents for f in invoice.fees.all()) == [800, 1901]
