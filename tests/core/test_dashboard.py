"""Dashboard figures against hand-computed fixtures (rows written directly, amounts chosen by
hand), the page per role, and each CSV parsed back."""

import csv
import io
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from backoffice import dashboard
from core import roles
from core.models import FxRate
from customers.models import Customer, Subscription
from invoices.models import Fee, Invoice
from tests.factories import make_metric, make_plan

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({}, {1: 100}, dashboard.Movement(new=100)),
        ({1: 100}, {1: 150}, dashboard.Movement(expansion=50)),
        ({1: 100}, {1: 40}, dashboard.Movement(contraction=-60)),
        ({1: 100}, {}, dashboard.Movement(churn=-100)),
        ({1: 100, 2: 50}, {1: 100, 3: 70, 2: 80}, dashboard.Movement(new=70, expansion=30)),
    ],
)
def test_mrr_movement_table(before, after, expected):
    movement = dashboard.mrr_movement(before, after)
    assert movement == expected
    assert movement.net == sum(after.values()) - sum(before.values())


@pytest.mark.parametrize(
    ("interval", "factor"),
    [
        ("weekly", "4.333333333333333333333333333"),
        ("monthly", "1"),
        ("quarterly", "0.3333333333333333333333333333"),
        ("semiannual", "0.1666666666666666666666666667"),
        ("yearly", "0.08333333333333333333333333333"),
    ],
)
def test_the_monthly_share_of_a_base_fee_comes_from_the_interval_length(interval, factor):
    assert str(dashboard.monthly_factor(interval)) == factor


def customer(external_id: str, currency: str = "USD") -> Customer:
    return Customer.objects.create(external_id=external_id, name=external_id, currency=currency)


def subscribe(who: Customer, plan, start: datetime, end: datetime | None = None) -> Subscription:
    return Subscription.objects.create(
        customer=who,
        plan=plan,
        external_id=f"{who.external_id}-{plan.code}",
        status="terminated" if end else "active",
        started_at=start,
        subscription_at=start,
        terminated_at=end,
    )


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_mrr_per_month_with_its_movement():
    monthly = make_plan("m100", 10_000)  # $100 a month
    yearly = make_plan("y2400", 240_000, interval="yearly")  # $200 a month
    a, b, c = customer("a"), customer("b"), customer("c")
    subscribe(a, monthly, at(2024, 1, 5))  # from January
    subscribe(b, monthly, at(2024, 1, 10), end=at(2024, 2, 15))  # churns in February
    subscribe(b, yearly, at(2024, 3, 1))  # back in March, yearly
    subscribe(c, yearly, at(2024, 2, 1))  # new in February
    months = dashboard.mrr_by_month(date(2024, 1, 1), date(2024, 3, 31), "USD")
    assert [m.mrr_cents for m in months] == [20_000, 30_000, 50_000]
    assert [m.movement for m in months] == [
        dashboard.Movement(new=20_000),
        dashboard.Movement(new=20_000, churn=-10_000),
        dashboard.Movement(new=20_000),
    ]


def invoice(who: Customer, issued: date, fees: dict, currency: str = "USD", **fields) -> Invoice:
    total = sum(fees.values())
    row = Invoice.objects.create(
        customer=who,
        invoice_type="subscription",
        currency=currency,
        status="finalized",
        issuing_date=issued,
        payment_due_date=fields.pop("due", issued),
        sub_total_excluding_taxes_amount_cents=total,
        total_amount_cents=total,
        **fields,
    )
    for fee_type, cents in fees.items():
        Fee.objects.create(
            invoice=row, fee_type=fee_type, amount_cents=cents, amount_currency=currency
        )
    return row


def test_revenue_mix_per_month_in_the_chosen_currency():
    a, b = customer("a"), customer("b", "EUR")
    FxRate.objects.create(base="EUR", quote="USD", rate=D("1.10"), date=date(2024, 1, 31))
    invoice(a, date(2024, 1, 3), {"subscription": 10_000, "charge": 2_550, "add_on": 500})
    invoice(b, date(2024, 1, 20), {"subscription": 1_000, "charge": 1_000}, currency="EUR")
    invoice(a, date(2024, 2, 3), {"subscription": 10_000, "credit": 9_999})  # credits: not revenue
    months = dashboard.revenue_by_month(date(2024, 1, 1), date(2024, 2, 29), "USD")
    jan, feb = months
    assert (jan.base_cents, jan.usage_cents, jan.one_off_cents) == (11_100, 3_650, 500)
    assert (feb.base_cents, feb.usage_cents, feb.one_off_cents) == (10_000, 0, 0)
    assert jan.base_share == D(11_100) / D(15_250)


def test_receivables_by_age_and_failed_payments():
    from payments.models import Payment

    a = customer("a")
    today = date(2024, 6, 30)
    invoice(a, date(2024, 6, 1), {"subscription": 100}, due=date(2024, 7, 15))  # not due
    invoice(a, date(2024, 5, 1), {"subscription": 200}, due=date(2024, 6, 20))  # 10 days
    invoice(a, date(2024, 4, 1), {"subscription": 300}, due=date(2024, 5, 1))  # 60 days
    invoice(a, date(2024, 1, 1), {"subscription": 400}, due=date(2024, 1, 31))  # 151 days
    paid = invoice(
        a,
        date(2024, 1, 1),
        {"subscription": 999},
        due=date(2024, 1, 31),
        payment_status="succeeded",
    )
    Payment.objects.create(
        invoice=paid, customer=a, amount_cents=999, currency="USD", status="failed"
    )
    result = dashboard.receivables(today, "USD")
    assert result.buckets == {"not due": 100, "0-30": 200, "31-60": 300, "61-90": 0, "90+": 400}
    assert result.overdue_cents == 900
    assert (result.failed_payments, result.failed_payments_cents) == (1, 999)


def test_gross_margin_for_metrics_with_a_unit_cost():
    a = customer("a")
    gpu = make_metric("gpu_seconds", "sum_agg", unit_cost="0.0004")
    plan = make_plan(
        "gpu",
        0,
        charges=[
            {
                "billable_metric_id": str(gpu.lago_id),
                "charge_model": "standard",
                "properties": {"amount": "0.001"},
            }
        ],
    )
    charge = plan.charges.get()
    row = invoice(a, date(2024, 3, 1), {"charge": 1_000})  # $10 for 10,000 s
    Fee.objects.filter(invoice=row).update(charge=charge, units=D(10_000))
    [margin] = dashboard.gross_margin(date(2024, 3, 1), date(2024, 3, 31), "USD")
    assert (margin.key, margin.revenue_cents, margin.cost_cents, margin.margin_cents) == (
        "gpu_seconds",
        1_000,
        400,
        600,
    )
    [per_customer] = dashboard.gross_margin(date(2024, 3, 1), date(2024, 3, 31), "USD", "customer")
    assert per_customer.key == "a" and per_customer.margin_share == D("0.6")


def test_ingestion_health_counts_rejected_and_late_events(api):
    make_metric("calls", "count_agg")
    make_plan("p", 0)
    with time_machine.travel(at(2024, 4, 1), tick=False):
        api.post(
            "/api/v1/customers",
            {"customer": {"external_id": "a", "currency": "USD"}},
            format="json",
        )
        api.post(
            "/api/v1/subscriptions",
            {"subscription": {"external_customer_id": "a", "plan_code": "p", "external_id": "s"}},
            format="json",
        )
    with time_machine.travel(at(2024, 4, 20, 12), tick=False):
        events = [
            {"transaction_id": f"t{i}", "external_subscription_id": "s", "code": "calls"}
            for i in range(3)
        ]
        events.append({"transaction_id": "x", "external_subscription_id": "nope", "code": "calls"})
        api.post("/api/v1/events/batch", {"events": events}, format="json")
    from invoices.services import subscription_bill_due

    subscription_bill_due(subscription_id=Subscription.objects.get().pk, now=at(2024, 5, 1, 0, 5))
    with time_machine.travel(at(2024, 5, 2), tick=False):  # late: April is invoiced
        api.post(
            "/api/v1/events",
            {
                "event": {
                    "transaction_id": "late",
                    "code": "calls",
                    "external_subscription_id": "s",
                    "timestamp": at(2024, 4, 30).timestamp(),
                }
            },
            format="json",
        )
        health = dashboard.ingestion_health(at(2024, 5, 2), date(2024, 4, 1), date(2024, 5, 31))
    assert health.accepted == 4
    assert health.rejected == {"unknown_subscription": 1}
    assert health.late_after_close == 1
    assert len(health.per_minute) == 61 and health.per_minute[-1][1] == 1


def staff(client, role: str | None):
    user = get_user_model().objects.create_user("someone", password="pw", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role))
    client.force_login(user)
    return client


def test_the_dashboard_page_and_its_csvs_for_a_finance_viewer(client):
    a = customer("a")
    invoice(a, date(2024, 1, 3), {"subscription": 10_000, "charge": 2_550})
    staff(client, roles.VIEWER)
    query = "start=2024-01-01&end=2024-02-29&currency=USD"
    page = client.get(f"/admin/dashboard/?{query}")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<svg") >= 4 and "Revenue invoiced" in html
    # money as finance reads it (core/display.py), not minor units: $100.00 base, $25.50 usage
    assert '<td class="num">$100.00</td><td class="num">$25.50</td>' in html
    assert "minor units" not in html and ">10,000<" not in html
    rows = list(
        csv.DictReader(
            io.StringIO(client.get(f"/admin/dashboard/revenue.csv?{query}").content.decode())
        )
    )
    assert rows[0] == {
        "month": "2024-01-01",
        "base_USD": "100.00",
        "usage_USD": "25.50",
        "one_off_USD": "0.00",
        "total_USD": "125.50",
        "base_share": "0.7968",
    }
    for name in (
        "mrr",
        "usage",
        "top_usage",
        "top_revenue",
        "margin_metric",
        "margin_customer",
        "receivables",
        "ingestion",
    ):
        response = client.get(f"/admin/dashboard/{name}.csv?{query}")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert next(csv.reader(io.StringIO(response.content.decode())))
    assert client.get(f"/admin/dashboard/nope.csv?{query}").status_code == 404


def test_no_role_no_dashboard(client):
    staff(client, None)
    assert client.get("/admin/dashboard/").status_code == 403


def test_empty_charts_say_so_instead_of_drawing_an_empty_box(client):
    staff(client, roles.VIEWER)
    html = client.get("/admin/dashboard/?start=2024-01-01&end=2024-02-29&currency=USD")
    html = html.content.decode()
    assert '<svg class="dash-chart"' not in html
    said = re.findall(r'data-testid="chart-empty"[^>]*>([^<]+)</p>', html)
    assert said == [
        "No MRR in this range.",
        "No revenue invoiced in this range.",
        "Nothing outstanding.",
        "No events in the last hour.",
    ]
