"""GET /api/v1/analytics/*: one world of subscriptions and invoices whose figures are
computed by hand; the API's numbers == the dashboard selectors' == those, and every answer
matches Lago's response schema."""

from datetime import date
from decimal import Decimal

import pytest
import time_machine

from backoffice import dashboard
from core.models import FxRate
from invoices.models import Fee
from tests.core.test_dashboard import at, customer, invoice, subscribe
from tests.factories import make_metric, make_plan
from tests.lago_spec import strict_schema_errors as schema_errors

pytestmark = pytest.mark.django_db
NOW = at(2024, 3, 15, 12)
JAN, FEB, MAR = "2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"


@pytest.fixture
def world():
    calls, gb = make_metric("calls", "count_agg"), make_metric("gb", "sum_agg")
    charges = [
        {
            "billable_metric_id": str(m.lago_id),
            "charge_model": "standard",
            "properties": {"amount": "1"},
        }
        for m in (calls, gb)
    ]
    monthly = make_plan("m100", 10_000, charges=charges)  # $100 a month
    yearly = make_plan("y2400", 240_000, interval="yearly")  # $200 a month
    by_code = {c.billable_metric.code: c for c in monthly.charges.all()}
    a, b = customer("a"), customer("b")
    subscribe(a, monthly, at(2024, 1, 5))
    subscribe(b, yearly, at(2024, 2, 1))

    def bill(who, issued, fees, usage=None, **fields):
        row = invoice(who, issued, fees, **fields)
        if usage:
            Fee.objects.filter(invoice=row, fee_type="charge").update(charge=by_code[usage])
        return row

    jan = bill(
        a, date(2024, 1, 31), {"subscription": 10_000, "charge": 2_550}, "calls",
        payment_status="succeeded",
    )  # fmt: skip
    feb_b = bill(
        b, date(2024, 2, 1), {"subscription": 240_000, "charge": 1_000}, "gb",
        due=date(2024, 2, 15),
    )  # fmt: skip  # overdue since February 15
    feb_a = bill(
        a, date(2024, 2, 29), {"subscription": 10_000, "charge": 450, "add_on": 500}, "calls",
        due=date(2024, 3, 10), payment_status="failed",
    )  # fmt: skip  # overdue since March 10
    bill(a, date(2024, 3, 1), {"subscription": 10_000}, due=date(2024, 3, 31))  # not due yet
    draft = bill(a, date(2024, 3, 2), {"subscription": 777})
    draft.status = "draft"  # drafts count nowhere
    draft.save(update_fields=["status"])
    return {"jan": jan, "feb_b": feb_b, "feb_a": feb_a}


def get(api, path: str, schema: str, **params) -> dict:
    with time_machine.travel(NOW, tick=False):
        response = api.get(f"/api/v1/analytics/{path}", params)
    assert response.status_code == 200, response.content
    body = response.json()
    assert schema_errors(schema, body) == []
    return body


def test_gross_revenue_is_the_dashboards_revenue_per_month(api, world):
    body = get(api, "gross_revenue", "GrossRevenues", months=3, currency="usd")
    assert body["gross_revenues"] == [
        {"month": JAN, "amount_cents": 12_550, "currency": "USD", "invoices_count": 1},
        {"month": FEB, "amount_cents": 251_950, "currency": "USD", "invoices_count": 2},
        {"month": MAR, "amount_cents": 10_000, "currency": "USD", "invoices_count": 1},
    ]
    months = dashboard.revenue_by_month(date(2024, 1, 1), date(2024, 3, 31), "USD")
    assert [m.total_cents for m in months] == [12_550, 251_950, 10_000]
    one = get(api, "gross_revenue", "GrossRevenues", months=2, external_customer_id="a")
    assert [(r["month"], r["amount_cents"]) for r in one["gross_revenues"]] == [
        (FEB, 10_950),
        (MAR, 10_000),
    ]


def test_invoiced_usage_per_metric_adds_up_to_the_dashboards_usage(api, world):
    body = get(api, "invoiced_usage", "InvoicedUsages", months=3)
    assert body["invoiced_usages"] == [
        {"month": JAN, "code": "calls", "amount_cents": 2_550, "currency": "USD"},
        {"month": FEB, "code": "calls", "amount_cents": 450, "currency": "USD"},
        {"month": FEB, "code": "gb", "amount_cents": 1_000, "currency": "USD"},
    ]
    months = dashboard.revenue_by_month(date(2024, 1, 1), date(2024, 3, 31), "USD")
    assert [m.usage_cents for m in months] == [2_550, 1_450, 0]


def test_mrr_is_the_dashboards_mrr(api, world):
    body = get(api, "mrr", "Mrrs", months=3)
    # a: $100 a month from January; b: $2,400 a year = $200 a month from February.
    assert body["mrrs"] == [
        {"month": JAN, "amount_cents": 10_000, "currency": "USD"},
        {"month": FEB, "amount_cents": 30_000, "currency": "USD"},
        {"month": MAR, "amount_cents": 30_000, "currency": "USD"},
    ]
    months = dashboard.mrr_by_month(date(2024, 1, 1), date(2024, 3, 31), "USD")
    assert [m.mrr_cents for m in months] == [10_000, 30_000, 30_000]


def test_overdue_balance_is_the_dashboards_overdue_receivables(api, world):
    body = get(api, "overdue_balance", "OverdueBalances", months=3)
    assert body["overdue_balances"] == [
        {"month": JAN, "amount_cents": 0, "currency": "USD", "lago_invoice_ids": []},
        {
            "month": FEB,
            "amount_cents": 241_000,
            "currency": "USD",
            "lago_invoice_ids": [str(world["feb_b"].lago_id)],
        },
        {
            "month": MAR,
            "amount_cents": 10_950,
            "currency": "USD",
            "lago_invoice_ids": [str(world["feb_a"].lago_id)],
        },
    ]
    assert dashboard.receivables(date(2024, 3, 15), "USD").overdue_cents == 241_000 + 10_950
    only_a = get(api, "overdue_balance", "OverdueBalances", months=1, external_customer_id="a")
    assert [r["amount_cents"] for r in only_a["overdue_balances"]] == [10_950]


def test_invoice_collection_by_payment_status(api, world):
    body = get(api, "invoice_collection", "InvoiceCollections", months=3)
    assert body["invoice_collections"] == [
        {
            "month": JAN,
            "payment_status": "succeeded",
            "invoices_count": 1,
            "amount_cents": 12_550,
            "currency": "USD",
        },
        {
            "month": FEB,
            "payment_status": "failed",
            "invoices_count": 1,
            "amount_cents": 10_950,
            "currency": "USD",
        },
        {
            "month": FEB,
            "payment_status": "pending",
            "invoices_count": 1,
            "amount_cents": 241_000,
            "currency": "USD",
        },
        {
            "month": MAR,
            "payment_status": "pending",
            "invoices_count": 1,
            "amount_cents": 10_000,
            "currency": "USD",
        },
    ]


def test_default_window_is_twelve_months_in_the_organizations_currency(api, world):
    body = get(api, "mrr", "Mrrs")
    assert len(body["mrrs"]) == 12
    assert body["mrrs"][0]["month"] == "2023-04-01T00:00:00.000Z"
    assert body["mrrs"][-1] == {"month": MAR, "amount_cents": 30_000, "currency": "USD"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"months": "0"}, "months"),
        ({"months": "121"}, "months"),
        ({"months": "x"}, "months"),
        ({"months": "-1"}, "months"),
        ({"months": "9" * 30}, "months"),
        ({"currency": "ZZZ"}, "currency"),
    ],
)
def test_bad_filters_are_422_naming_the_field(api, params, field):
    with time_machine.travel(NOW, tick=False):
        response = api.get("/api/v1/analytics/mrr", params)
    assert response.status_code == 422
    assert response.json() == {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": {field: ["value_is_invalid"]},
    }


def test_analytics_need_an_api_key(anon_api):
    assert anon_api.get("/api/v1/analytics/mrr").status_code == 401


def test_other_currencies_are_converted_as_the_dashboard_does(api, world):
    """EUR 1 = USD 1.10 from January: USD fees in EUR, per month and kind of fee, rounded half
    up once per group (base 250,000 / 1.1 = 227,272.73 -> 227,273; usage 1,450 -> 1,318.18 ->
    1,318; add-on 500 -> 454.55 -> 455), plus an invoice in EUR."""
    FxRate.objects.create(base="EUR", quote="USD", rate=Decimal("1.10"), date=date(2024, 1, 1))
    invoice(customer("c", "EUR"), date(2024, 2, 10), {"subscription": 1_000}, currency="EUR")
    body = get(api, "gross_revenue", "GrossRevenues", months=3, currency="EUR")
    # January: 10,000 -> 9,090.91 -> 9,091 and 2,550 -> 2,318.18 -> 2,318; March: 9,091.
    assert [r["amount_cents"] for r in body["gross_revenues"]] == [
        9_091 + 2_318,
        227_273 + 1_318 + 455 + 1_000,
        9_091,
    ]
    assert {r["currency"] for r in body["gross_revenues"]} == {"EUR"}
    months = dashboard.revenue_by_month(date(2024, 1, 1), date(2024, 3, 31), "EUR")
    assert [m.total_cents for m in months] == [r["amount_cents"] for r in body["gross_revenues"]]
