"""An invoice prints how each usage fee was reached, as Lago's PDF does (issue 18): the tiers of a
graduated charge (units, unit price, flat fee, subtotal), a volume tier, packages, a
percentage's parts; no blended unit price for them."""

import html
import re

import pytest

from customers.services import customer_upsert
from invoices.documents import invoice_html_render
from tests.billing_clock import at, run_beat, send, subscribe
from tests.factories import make_metric, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def customer():
    customer_upsert(data={"external_id": "cust", "currency": "USD"})


def _bill(charge_model: str, properties: dict, *values) -> tuple:
    calls = make_metric("calls")
    charge = {
        "billable_metric_id": str(calls.lago_id),
        "charge_model": charge_model,
        "properties": properties,
    }
    make_plan("usage", 0, charges=[charge])
    subscribe(at(2025, 1, 1), "usage")
    for day, value in enumerate(values, start=2):
        send(at(2025, 1, day), "calls", value)
    [invoice] = run_beat(at(2025, 2, 1, 0, 5))
    return invoice, invoice.fees.get(fee_type="charge")


def _rows(page: str, css_class: str) -> list[list[str]]:
    """The cells of the table rows with `css_class`, tags stripped."""
    opening = f'<tr class="{css_class}">' if css_class else "<tr>"
    rows = re.findall(rf"{opening}(.*?)</tr>", page, re.S)
    return [
        [html.unescape(re.sub(r"\s+", " ", re.sub("<[^>]+>", "", cell))).strip() for cell in cells]
        for cells in (re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows)
    ]


def _cents(text: str) -> int:
    return int(text.replace("$", "").replace(",", "").replace(".", ""))


THREE_TIERS = {
    "graduated_ranges": [
        {"from_value": 0, "to_value": 1000, "per_unit_amount": "0", "flat_amount": "0"},
        {"from_value": 1001, "to_value": 5000, "per_unit_amount": "0.02", "flat_amount": "10"},
        {"from_value": 5001, "to_value": None, "per_unit_amount": "0.005", "flat_amount": "5"},
    ]
}


def test_a_graduated_fee_prints_each_tier_summing_to_the_fee():
    # 12,000 calls: 1,000 free, 4,000 x $0.02 = $80 + $10 flat, 7,000 x $0.005 = $35 + $5 flat
    invoice, fee = _bill("graduated", THREE_TIERS, 5000, 7000)
    assert fee.amount_cents == 13000  # 0 + 80 + 10 + 35 + 5
    page = invoice_html_render(invoice=invoice)
    lines = _rows(page, "breakdown")
    assert lines == [
        ["Units 0 \u2013 1,000", "1,000", "$0.00", "$0.00"],
        ["Units 1,001 \u2013 5,000", "4,000", "$0.02", "$80.00"],
        ["Flat fee (Units 1,001 \u2013 5,000)", "1", "$10.00", "$10.00"],
        ["Units from 5,001", "7,000", "$0.005", "$35.00"],
        ["Flat fee (Units from 5,001)", "1", "$5.00", "$5.00"],
    ]
    assert sum(_cents(line[3]) for line in lines) == fee.amount_cents
    # the fee's own line: its units and amount, no blended $0.010833 unit price
    assert "0.010833" not in page and "$0.01083" not in page
    assert ["Calls", "12,000", "", "$130.00"] in _rows(page, "")
    assert fee.amount_details["graduated_ranges"][1] == {
        "from_value": 1001,
        "to_value": 5000,
        "flat_unit_amount": "10",
        "per_unit_amount": "0.02",
        "units": "4000",
        "per_unit_total_amount": "80",
        "total_with_flat_amount": "90",
    }


VOLUME = {
    "volume_ranges": [
        {"from_value": 0, "to_value": 100, "per_unit_amount": "1", "flat_amount": "0"},
        {"from_value": 101, "to_value": None, "per_unit_amount": "0.5", "flat_amount": "10"},
    ]
}
GRADUATED_PERCENTAGE = {
    "graduated_percentage_ranges": [
        {"from_value": 0, "to_value": 100, "rate": "1", "flat_amount": "0"},
        {"from_value": 101, "to_value": None, "rate": "0.5", "flat_amount": "1"},
    ]
}
PACKAGE = {"package_size": 100, "amount": "5", "free_units": 50}
PERCENTAGE = {"rate": "2", "fixed_amount": "0.1", "free_units_per_events": 1}


@pytest.mark.parametrize(
    ("model", "properties", "values", "cents", "expected"),
    [
        (  # 100 at 1% = $1, 200 at 0.5% = $1, plus the second tier's $1 flat fee
            "graduated_percentage",
            GRADUATED_PERCENTAGE,
            (100, 200),
            300,
            [
                ["Units 0 \u2013 100", "100", "1%", "$1.00"],
                ["Units from 101", "200", "0.5%", "$1.00"],
                ["Flat fee (Units from 101)", "1", "$1.00", "$1.00"],
            ],
        ),
        (  # all 150 units at the second tier's $0.50, plus its $10 flat fee
            "volume",
            VOLUME,
            (150,),
            8500,
            [
                ["All units, at their tier's price", "150", "$0.50", "$75.00"],
                ["Flat fee for all units", "1", "$10.00", "$10.00"],
            ],
        ),
        (  # 320 - 50 free = 270 paid units: 3 started packages of 100 at $5
            "package",
            PACKAGE,
            (120, 200),
            1500,
            [
                ["Free units", "50", "$0.00", "$0.00"],
                ["Paid units, per package of 100", "270", "$5.00 / 100", "$15.00"],
            ],
        ),
        (  # the first event (100) free; 2% of 500 = $10, 2 paid events x $0.10
            "percentage",
            PERCENTAGE,
            (100, 200, 300),
            1020,
            [
                ["Free units (1 free events)", "100", "$0.00", "$0.00"],
                ["Rate on the paid amount", "500", "2%", "$10.00"],
                ["Fixed fee per transaction", "2", "$0.10", "$0.20"],
            ],
        ),
    ],
)
def test_other_models_print_their_parts(model, properties, values, cents, expected):
    invoice, fee = _bill(model, properties, *values)
    assert fee.amount_cents == cents
    lines = _rows(invoice_html_render(invoice=invoice), "breakdown")
    assert lines == expected
    assert sum(_cents(line[3]) for line in lines) == cents
