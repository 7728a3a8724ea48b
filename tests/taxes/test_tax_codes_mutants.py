"""Explicit tax codes that mutation testing found unchecked (docs/testing.md, "Mutation
testing"): an add-on's codes on its one-off fee, a minimum commitment's codes on its true-up,
the plan's codes on the other fees. Amounts in cents, computed beside each assertion."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from core.services import organization_update
from customers.services import customer_upsert
from customers.wallets import wallet_create, wallet_top_up
from invoices.models import FeeAppliedTax
from invoices.one_off import one_off_invoice_create
from invoices.services.taxes import taxes_apply
from plans.addons import add_on_create
from taxes.services import tax_create
from tests.billing_clock import at, fee_lines, rates, run_beat, send, subscribe
from tests.factories import make_metric, make_plan, standard_charge

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def taxes():
    organization_update(data={"name": "Demo AI GmbH", "country": "DE"})
    tax_create(data={"code": "customer_10", "name": "Customer 10%", "rate": "10"})
    tax_create(data={"code": "add_on_7", "name": "Add-on 7%", "rate": "7"})
    tax_create(data={"code": "plan_5", "name": "Plan 5%", "rate": "5"})
    tax_create(data={"code": "commitment_20", "name": "Commitment 20%", "rate": "20"})


def test_an_add_ons_tax_codes_win_over_the_customers_on_its_one_off_fee():
    customer_upsert(
        data={
            "external_id": "acme",
            "currency": "USD",
            "country": "DE",
            "tax_codes": ["customer_10"],
        }
    )
    add_on_create(
        data={
            "name": "GPU pack",
            "code": "gpu",
            "amount_cents": 25000,
            "amount_currency": "USD",
            "tax_codes": ["add_on_7"],
        }
    )
    add_on_create(
        data={"name": "Setup", "code": "setup", "amount_cents": 1500, "amount_currency": "USD"}
    )
    invoice = one_off_invoice_create(
        data={
            "external_customer_id": "acme",
            "currency": "USD",
            "fees": [
                {"add_on_code": "gpu"},
                {"add_on_code": "setup"},
                {"add_on_code": "gpu", "tax_codes": ["plan_5"]},
            ],
        },
        now=datetime(2024, 6, 3, 12, tzinfo=UTC),
    )
    # GPU: 7 % x 25,000 = 1,750; setup has no codes of its own: the customer's 10 % x 1,500 = 150;
    # the fee's own codes come first: 5 % x 25,000 = 1,250
    assert [(name, amount, taxes) for name, amount, _, taxes in fee_lines(invoice)] == [
        ("GPU pack", 25000, 1750),
        ("Setup", 1500, 150),
        ("GPU pack", 25000, 1250),
    ]
    assert rates(invoice) == [
        ("add_on_7", Decimal(7), 25000, 1750),
        ("customer_10", Decimal(10), 1500, 150),
        ("plan_5", Decimal(5), 25000, 1250),
    ]


def test_a_commitments_tax_codes_apply_to_its_true_up_and_the_plans_to_the_rest():
    customer_upsert(data={"external_id": "cust", "currency": "USD", "country": "DE"})
    calls = make_metric("calls")
    make_plan(
        "committed",
        0,
        charges=[standard_charge(calls, "1")],
        tax_codes=["plan_5"],
        minimum_commitment={"amount_cents": 50000, "tax_codes": ["commitment_20"]},
    )
    subscribe(at(2025, 1, 1), "committed")
    send(at(2025, 1, 10), "calls", 300)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    # usage 300 x $1 = 30,000 at the plan's 5 % = 1,500; true-up 50,000 - 30,000 = 20,000 at
    # the commitment's 20 % = 4,000
    assert rates(january) == [
        ("commitment_20", Decimal(20), 20000, 4000),
        ("plan_5", Decimal(5), 30000, 1500),
    ]


def test_a_commitment_without_codes_takes_the_plans():
    customer_upsert(data={"external_id": "cust", "currency": "USD", "country": "DE"})
    calls = make_metric("calls")
    make_plan(
        "committed",
        0,
        charges=[standard_charge(calls, "1")],
        tax_codes=["plan_5"],
        minimum_commitment={"amount_cents": 50000},
    )
    subscribe(at(2025, 1, 1), "committed")
    send(at(2025, 1, 10), "calls", 300)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    # 5 % of the usage 30,000 and of the true-up 20,000: 1,500 + 1,000
    assert rates(january) == [("plan_5", Decimal(5), 50000, 2500)]


def test_a_charges_tax_codes_win_over_the_plans():
    customer_upsert(data={"external_id": "cust", "currency": "USD", "country": "DE"})
    calls, seats = make_metric("calls"), make_metric("seats")
    make_plan(
        "coded",
        0,
        charges=[
            standard_charge(calls, "1", tax_codes=["add_on_7"]),
            standard_charge(seats, "2"),
        ],
        tax_codes=["plan_5"],
    )
    subscribe(at(2025, 1, 1), "coded")
    send(at(2025, 1, 10), "calls", 300)
    send(at(2025, 1, 11), "seats", 10)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    # calls 30,000 at the charge's 7 % = 2,100; seats 10 x $2 = 2,000 at the plan's 5 % = 100
    assert rates(january) == [
        ("add_on_7", Decimal(7), 30000, 2100),
        ("plan_5", Decimal(5), 2000, 100),
    ]


def test_taxes_apply_recomputes_rather_than_adds_and_returns_the_invoices_taxes():
    customer_upsert(
        data={
            "external_id": "cust",
            "currency": "USD",
            "country": "DE",
            "tax_codes": ["customer_10", "plan_5"],
        }
    )
    calls, seats = make_metric("calls"), make_metric("seats")
    make_plan("usage", 0, charges=[standard_charge(calls, "1"), standard_charge(seats, "2")])
    subscribe(at(2025, 1, 1), "usage")
    send(at(2025, 1, 10), "calls", 300)
    send(at(2025, 1, 11), "seats", 10)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    # calls 30,000: 10 % = 3,000 and 5 % = 1,500; seats 2,000: 200 and 100; in all 4,800,
    # however many times it is computed
    assert taxes_apply(invoice=january) == 4800
    assert taxes_apply(invoice=january) == 4800
    assert [taxes for *_, taxes in fee_lines(january)] == [4500, 300]
    assert rates(january) == [
        ("customer_10", Decimal(10), 32000, 3200),
        ("plan_5", Decimal(5), 32000, 1600),
    ]
    rows = FeeAppliedTax.objects.filter(fee__invoice=january).order_by("fee_id", "tax_code")
    assert list(
        rows.values_list("tax_code", "tax_name", "tax_rate", "base_amount_cents", "amount_cents")
    ) == [
        ("customer_10", "Customer 10%", Decimal(10), 30000, 3000),
        ("plan_5", "Plan 5%", Decimal(5), 30000, 1500),
        ("customer_10", "Customer 10%", Decimal(10), 2000, 200),
        ("plan_5", "Plan 5%", Decimal(5), 2000, 100),
    ]


def test_buying_prepaid_credits_is_not_taxed():
    customer_upsert(data={"external_id": "cust", "currency": "USD", "country": "DE"})
    tax_create(
        data={
            "code": "default_8",
            "name": "Default 8%",
            "rate": "8",
            "applied_to_organization": True,
        }
    )
    with time_machine.travel(at(2025, 1, 1, 9), tick=False):
        wallet = wallet_create(data={"external_customer_id": "cust", "rate_amount": "1"})
        [purchase] = wallet_top_up(wallet=wallet, paid_credits="100")
    invoice = purchase.invoice
    assert invoice.invoice_type == "credit"
    assert taxes_apply(invoice=invoice) == 0
    assert (invoice.taxes_amount_cents, invoice.total_amount_cents) == (0, 10000)
    assert not invoice.applied_taxes.exists()


def test_tax_details_of_a_valid_vat_number():
    organization_update(data={"name": "Demo AI SAS", "country": "FR"})
    calls = make_metric("calls")
    make_plan("usage", 0, currency="EUR", charges=[standard_charge(calls, "1")])
    customer_upsert(
        data={
            "external_id": "cust",
            "currency": "EUR",
            "country": "DE",
            "customer_type": "company",
            "tax_identification_number": "DE136695976",
        }
    )
    subscribe(at(2025, 1, 1), "usage")
    send(at(2025, 1, 10), "calls", 3)
    [january] = run_beat(at(2025, 2, 1, 0, 5))
    assert january.tax_details == {
        "customer_tax_id": "DE136695976",
        "customer_tax_id_valid": True,
        "reverse_charge": True,
        "notes": [],  # valid: no "not valid" note
    }
    assert january.applied_taxes.get().tax_name == "VAT reverse charge"
