"""One-off invoices (Lago's POST /invoices): add-on lines, finalized and numbered at once,
webhooked as invoice.one_off_created; currency and validation rules."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine

from customers.services import customer_upsert
from invoices.models import Invoice
from invoices.one_off import OneOffInvoiceForm, one_off_invoice_create
from plans.addons import add_on_create
from webhooks.services import webhook_endpoint_create

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.addons.urls")]


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def gpu_pack():
    return add_on_create(
        data={
            "name": "GPU pack 10h",
            "code": "gpu_pack_10h",
            "amount_cents": 25000,
            "amount_currency": "USD",
            "invoice_display_name": "GPU hours (10h pack)",
        }
    )


@pytest.fixture
def customer():
    customer, _ = customer_upsert(
        data={
            "external_id": "acme",
            "currency": "USD",
            "timezone": "America/New_York",
            "net_payment_term": 15,
            "billing_configuration": {"invoice_grace_period": 3},  # not for one-off invoices
        }
    )
    return customer


def _errors(response) -> dict:
    assert response.status_code == 422, response.json()
    return response.json()["error_details"]


def test_gpu_pack_through_the_api_is_finalized_at_once(
    api, gpu_pack, customer, receiver, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(
        data={"webhook_url": receiver.url(), "event_types": ["invoice.one_off_created"]}
    )
    body = {
        "invoice": {
            "external_customer_id": "acme",
            "fees": [{"add_on_code": "gpu_pack_10h", "units": 2.0}],
        }
    }
    # 2024-06-01 02:00 UTC is still May 31 in New York: the customer's day is the issuing date
    clock = time_machine.travel(at(2024, 6, 1, 2), tick=False)
    with clock, django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/invoices", body)
    assert response.status_code == 200, response.json()
    invoice = response.json()["invoice"]
    assert (invoice["invoice_type"], invoice["status"]) == ("one_off", "finalized")
    assert invoice["number"] == "INV-202406-0001"
    assert (invoice["issuing_date"], invoice["payment_due_date"]) == ("2024-05-31", "2024-06-15")
    assert invoice["net_payment_term"] == 15
    assert (invoice["fees_amount_cents"], invoice["total_amount_cents"]) == (50000, 50000)
    assert invoice["currency"] == "USD" and invoice["billing_periods"] == []
    [fee] = invoice["fees"]
    assert (fee["amount_cents"], fee["units"], fee["precise_unit_amount"]) == (50000, "2.0", "250")
    assert fee["item"]["type"] == "add_on"
    assert fee["item"]["invoice_display_name"] == "GPU hours (10h pack)"
    assert fee["amount_details"] == {
        "add_on_code": "gpu_pack_10h",
        "lago_add_on_id": str(gpu_pack.lago_id),
    }
    [hit] = receiver.hits
    payload = json.loads(hit.body)
    assert payload["webhook_type"] == "invoice.one_off_created"
    assert payload["invoice"]["number"] == "INV-202406-0001"


def test_unit_price_override_fractional_units_and_several_lines(gpu_pack, customer):
    add_on_create(
        data={"name": "Setup", "code": "setup", "amount_cents": 1500, "amount_currency": "USD"}
    )
    invoice = one_off_invoice_create(
        data={
            "external_customer_id": "acme",
            "currency": "usd",
            "fees": [
                {"add_on_code": "gpu_pack_10h", "units": 1.5, "unit_amount_cents": 333},
                {"add_on_code": "setup", "description": "Onboarding", "units": None},
                {"add_on_code": "setup", "unit_amount_cents": 0},
            ],
        },
        now=at(2024, 6, 3, 12),
    )
    # 1.5 x $3.33 = $4.995 → 500 cents (half up, once); the add-on may be repeated
    assert [(f.units, f.precise_amount, f.amount_cents) for f in invoice.fees.all()] == [
        (Decimal("1.5"), Decimal("4.995"), 500),
        (Decimal(1), Decimal(15), 1500),
        (Decimal(1), Decimal(0), 0),
    ]
    assert [f.description for f in invoice.fees.all()] == ["GPU pack 10h", "Onboarding", "Setup"]
    assert invoice.total_amount_cents == 2000 and invoice.status == "finalized"


def test_customer_without_currency_takes_the_add_ons(gpu_pack):
    customer_upsert(data={"external_id": "newco"})
    invoice = one_off_invoice_create(
        data={"external_customer_id": "newco", "fees": [{"add_on_code": "gpu_pack_10h"}]},
        now=at(2024, 6, 3),
    )
    assert (invoice.currency, invoice.total_amount_cents) == ("USD", 25000)


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"currency": "EUR"}, {"currency": ["currencies_does_not_match"]}),
        ({"currency": "EURO"}, {"currency": ["value_is_invalid"]}),
        ({"fees": []}, {"fees": ["value_is_mandatory"]}),
        ({"fees": "gpu"}, {"fees": ["invalid_format"]}),
        ({"fees": [{"units": 1}]}, {"fees.0.add_on_code": ["value_is_mandatory"]}),
        (
            {"fees": [{"add_on_code": "gpu_pack_10h", "units": 0}]},
            {"fees.0.units": ["value_is_invalid"]},
        ),
        (
            {"fees": [{"add_on_code": "gpu_pack_10h", "unit_amount_cents": -5}]},
            {"fees.0.unit_amount_cents": ["value_is_invalid"]},
        ),
        (
            {"fees": [{"add_on_code": "gpu_pack_10h", "from_datetime": "yesterday"}]},
            {"fees.0.from_datetime": ["invalid_format"]},
        ),
        ({"external_customer_id": None}, {"external_customer_id": ["value_is_mandatory"]}),
    ],
)
def test_validation_codes(api, gpu_pack, customer, body, details):
    payload = {"external_customer_id": "acme", "fees": [{"add_on_code": "gpu_pack_10h"}], **body}
    assert _errors(api.post("/api/v1/invoices", {"invoice": payload})) == details
    assert not Invoice.objects.exists()


def test_unknown_customer_or_add_on_is_404(api, gpu_pack, customer):
    unknown = {"external_customer_id": "ghost", "fees": [{"add_on_code": "gpu_pack_10h"}]}
    response = api.post("/api/v1/invoices", {"invoice": unknown})
    assert (response.status_code, response.json()["code"]) == (404, "customer_not_found")
    bad_add_on = {"external_customer_id": "acme", "fees": [{"add_on_code": "nope"}]}
    response = api.post("/api/v1/invoices", {"invoice": bad_add_on})
    assert (response.status_code, response.json()["code"]) == (404, "add_on_not_found")


def test_admin_form_issues_the_invoice_or_shows_the_errors(gpu_pack, customer):
    form = OneOffInvoiceForm(
        data={"add_on": gpu_pack.pk, "units": "2", "description": "Burst"}, customer=customer
    )
    assert form.is_valid(), form.errors
    invoice = form.save()
    assert invoice.number and invoice.total_amount_cents == 50000
    assert invoice.fees.get().description == "Burst"
    bad = OneOffInvoiceForm(data={"add_on": gpu_pack.pk, "units": "0"}, customer=customer)
    assert bad.is_valid()
    assert bad.save() is None
    assert "fees.0.units: value_is_invalid" in str(bad.errors["units"])


@pytest.mark.parametrize(
    "units",
    ["9e24", 1e308, 99999999999999999999, "1e-20000", "1e1000000", "1e15", "1e-13"],
)
def test_units_outside_the_representable_range_are_refused_before_anything_is_written(
    api, gpu_pack, customer, units
):
    """Found by `make fuzz`: these overflowed the bigint amount or the numeric units (500)."""
    fees = [{"add_on_code": "gpu_pack_10h", "units": units}]
    body = {"invoice": {"external_customer_id": "acme", "fees": fees}}
    assert _errors(api.post("/api/v1/invoices", body)) == {
        "fees.0.units": ["value_is_out_of_range"]
    }
    assert not Invoice.objects.exists()


def test_fees_whose_amount_would_not_fit_a_bigint_are_refused(api, gpu_pack, customer):
    """10^14 units of $250 is 2.5 x 10^18 cents: under 2^63 alone, not with the second line
    (half of 2^63 ~ 4.6 x 10^18 is the bound, leaving room for taxes)."""
    line = {"add_on_code": "gpu_pack_10h", "units": "100000000000000"}
    body = {"invoice": {"external_customer_id": "acme", "fees": [line, line]}}
    assert _errors(api.post("/api/v1/invoices", body)) == {
        "fees.1.units": ["value_is_out_of_range"]
    }
    assert not Invoice.objects.exists()
    over = {"add_on_code": "gpu_pack_10h", "unit_amount_cents": 2**62}
    body = {"invoice": {"external_customer_id": "acme", "fees": [over]}}
    assert _errors(api.post("/api/v1/invoices", body)) == {
        "fees.0.unit_amount_cents": ["value_is_out_of_range"]
    }
