"""Overdue is one fact: the API, the admin (list, filter, page, export), the portal and the
dashboard's receivables say the same thing at every moment, from the first second of the day
after the due date; the beat task flags the row (one webhook) on the hour, idempotently."""

from datetime import UTC, date, datetime

import pytest
import time_machine
from django.urls import reverse

from backoffice import dashboard
from customers.models import Customer
from customers.services import customer_upsert, subscription_create
from invoices.models import Invoice
from invoices.services import subscription_bill_due
from invoices.tasks import mark_overdue
from tests.factories import make_plan
from tests.portal.world import PASSWORD, portal_user
from tests.webhooks.conftest import make_endpoint, receiver  # noqa: F401 (fixtures)
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def invoice():
    """$50 for April, finalized on May 1 with a 10-day term: due on May 11, 2024."""
    make_plan("pro", 5000)
    customer_upsert(data={"external_id": "cust", "email": "ap@cust.example", "currency": "USD"})
    customer_upsert(data={"external_id": "cust", "net_payment_term": 10})
    portal_user(Customer.objects.get(external_id="cust"), "ap@c.ex")
    with time_machine.travel(at(2024, 4, 1), tick=False):
        subscription = subscription_create(
            data={"external_customer_id": "cust", "plan_code": "pro", "external_id": "sub"}
        )
    with time_machine.travel(at(2024, 5, 1, 0, 1), tick=False):
        [invoice] = subscription_bill_due(subscription_id=subscription.pk)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.payment_due_date) == ("finalized", date(2024, 5, 11))
    assert invoice.total_amount_cents == 5000
    return invoice


def what_everyone_says(api, admin_client, client, invoice: Invoice) -> dict:
    """Overdue or not, as each reader shows it, at the frozen moment."""
    item = api.get(f"/api/v1/invoices/{invoice.lago_id}").json()["invoice"]
    listed = api.get("/api/v1/invoices?payment_overdue=true").json()["invoices"]
    not_listed = api.get("/api/v1/invoices?payment_overdue=false").json()["invoices"]
    admin_overdue = admin_client.get("/admin/invoices/invoice/?overdue=yes").context["cl"]
    admin_not = admin_client.get("/admin/invoices/invoice/?overdue=no").context["cl"]
    page = admin_client.get(reverse("admin:invoices_invoice_change", args=[invoice.pk]))
    page_html = page.content.decode()
    client.post("/portal/login", {"username": "ap@c.ex", "password": PASSWORD})
    portal_list = client.get("/portal/invoices").content.decode()
    portal_page = client.get(f"/portal/invoices/{invoice.lago_id}").content.decode()
    today = datetime.now(UTC).date()
    buckets = dashboard.receivables(today, "USD").buckets
    return {
        "api": item["payment_overdue"],
        "api filter true": [i["lago_id"] for i in listed] == [str(invoice.lago_id)],
        "api filter false": [i["lago_id"] for i in not_listed] == [],
        "admin filter yes": list(admin_overdue.result_list) == [invoice],
        "admin filter no": list(admin_not.result_list) == [],
        "admin page": admin_says(page_html),
        "portal list": "Overdue" in portal_list and "Due " not in portal_list,
        "portal page": "Overdue" in portal_page,
        "dashboard": buckets["not due"] == 0 and sum(buckets.values()) == 5000,
    }


def test_overdue_from_the_day_after_the_due_date_everywhere_before_any_beat_run(
    api, admin_client, client, invoice
):
    with time_machine.travel(at(2024, 5, 11, 23, 59, 59), tick=False):
        said = what_everyone_says(api, admin_client, client, invoice)
    assert not any(said.values()), said  # due today, not overdue: everyone agrees
    with time_machine.travel(at(2024, 5, 12), tick=False):
        said = what_everyone_says(api, admin_client, client, invoice)
        assert all(said.values()), said  # the first second past the due date, no task run yet
        assert dashboard.receivables(date(2024, 5, 12), "USD").buckets["0-30"] == 5000
    invoice.refresh_from_db()
    assert invoice.payment_overdue is False  # the flag is the beat's; the reads do not wait
    with time_machine.travel(at(2024, 6, 20), tick=False):  # 40 days past due
        said = what_everyone_says(api, admin_client, client, invoice)
        assert all(said.values()), said
        assert dashboard.receivables(date(2024, 6, 20), "USD").buckets["31-60"] == 5000


def test_the_beat_flags_each_past_due_invoice_once_with_one_webhook(
    api,
    admin_client,
    client,
    invoice,
    make_endpoint,  # noqa: F811
):
    make_endpoint()
    with time_machine.travel(at(2024, 5, 11, 23), tick=False):
        assert mark_overdue() == 0
    with time_machine.travel(at(2024, 5, 12), tick=False):
        assert mark_overdue() == 1
        assert mark_overdue() == 0  # idempotent: a second run flags nothing
    invoice.refresh_from_db()
    assert invoice.payment_overdue is True
    hooks = WebhookDelivery.objects.filter(webhook_type="invoice.payment_overdue")
    assert hooks.count() == 1
    assert hooks.get().payload["invoice"]["payment_overdue"] is True
    with time_machine.travel(at(2024, 5, 20), tick=False):
        paid = api.put(
            f"/api/v1/invoices/{invoice.lago_id}",
            {"invoice": {"payment_status": "succeeded"}},
            format="json",
        )
        assert paid.status_code == 200, paid.content
        said = what_everyone_says(api, admin_client, client, invoice)
        assert not any(said.values()), said  # paid: overdue for nobody, flag included
        assert mark_overdue() == 0


def test_the_overdue_marking_runs_on_the_hour_in_utc():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="invoices.mark_overdue")
    assert task.interval is None
    cron = task.crontab
    assert (cron.minute, cron.hour, cron.day_of_month, str(cron.timezone)) == ("0", "*", "*", "UTC")


def test_the_marking_updates_in_batches(invoice):
    from invoices.services import invoices_mark_overdue

    for n in range(4):
        Invoice.objects.create(
            customer=invoice.customer,
            invoice_type="one_off",
            currency="USD",
            status="finalized",
            issuing_date=date(2024, 5, 1),
            payment_due_date=date(2024, 5, 1 + n),
            total_amount_cents=100,
        )
    assert invoices_mark_overdue(today=date(2024, 5, 12), batch=2) == 5
    assert not Invoice.objects.filter(payment_overdue=False).exists()
    assert invoices_mark_overdue(today=date(2024, 5, 12), batch=2) == 0


def admin_says(html: str) -> bool:
    field = html.split("field-overdue")[1][:400]
    assert ('alt="True"' in field) != ('alt="False"' in field), field
    return 'alt="True"' in field
