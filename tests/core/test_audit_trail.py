"""Every change to billing data is recorded with who, when, what (before/after) and why:
from the admin, the API, a task and a webhook; queryset updates too; never secrets or personal
values; nothing for a rolled-back change; viewable per object and exportable."""

import csv
import io

import pytest
from django.db import transaction

from core.auditing import acting_as
from core.models import AuditEntry
from customers.models import Customer
from customers.services import customer_upsert
from invoices.models import Invoice
from taxes.models import Tax
from tests.payments.helpers import finalized_invoice

pytestmark = pytest.mark.django_db


def entries(model_label: str, **filters):
    return AuditEntry.objects.filter(object_type=model_label, **filters).order_by("id")


def test_an_api_change_names_the_key_and_hides_personal_values(api):
    api.post(
        "/api/v1/customers",
        {"customer": {"external_id": "acme", "email": "a@acme.example", "currency": "USD"}},
        format="json",
    )
    api.post(
        "/api/v1/customers",
        {"customer": {"external_id": "acme", "email": "b@acme.example", "net_payment_term": 30}},
        format="json",
    )
    created, updated = entries("customers.customer")
    assert created.action == "created" and created.source == "api"
    assert created.actor.startswith("api-key:") and "(tests)" in created.actor
    assert updated.changes == {
        "email": ["(personal data)", "(personal data)"],
        "net_payment_term": [None, 30],
    }


def test_an_admin_change_names_the_staff_member(admin_client):
    response = admin_client.post(
        "/admin/taxes/tax/add/", {"code": "vat_fr", "name": "TVA", "rate": "20.0"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    tax = Tax.objects.get(code="vat_fr")
    page = admin_client.get(f"/admin/taxes/tax/{tax.pk}/change/")
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    admin_client.post(f"/admin/taxes/tax/{tax.pk}/change/", {**data, "rate": "5.5"})
    created, updated = entries("taxes.tax")
    assert (created.actor, created.source, created.action) == ("staff:admin", "admin", "created")
    assert updated.changes == {"rate": ["20.0000", "5.5000"]}
    trail = admin_client.get(
        f"/admin/core/auditentry/?object_type=taxes.tax&object_id={tax.pk}"
    ).content.decode()
    assert "staff:admin" in trail and "2 audit entries" in trail
    assert "Audit trail" in page.content.decode()


def test_a_queryset_update_is_recorded_per_row(db):
    customer_upsert(data={"external_id": "acme", "currency": "USD"})
    invoice = finalized_invoice()  # billed by a service call outside any request: the system
    assert entries("invoices.invoice").first().actor == "system"
    with acting_as("task:invoices.mark_overdue", "task"):
        Invoice.objects.filter(pk=invoice.pk).update(payment_overdue=True)
    entry = entries("invoices.invoice", action="updated").last()
    assert (entry.actor, entry.source) == ("task:invoices.mark_overdue", "task")
    assert entry.changes == {"payment_overdue": [False, True]}


def test_celery_tasks_act_as_themselves(db):
    from core.tasks_audit import _task_ended, _task_started

    class Task:
        name = "invoices.mark_overdue"

    _task_started(task_id="t1", task=Task())
    try:
        customer_upsert(data={"external_id": "acme", "currency": "USD"})
    finally:
        _task_ended(task_id="t1")
    assert entries("customers.customer").get().actor == "task:invoices.mark_overdue"
    customer_upsert(data={"external_id": "other", "currency": "USD"})
    assert entries("customers.customer").last().actor == "system"


def test_a_stripe_webhook_names_the_event(client, stripe_on):
    from payments.models import Payment
    from tests.stripe_fake import event, sign

    customer_upsert(data={"external_id": "acme", "currency": "USD"})
    invoice = finalized_invoice()
    payment = Payment.objects.create(
        invoice=invoice,
        customer=invoice.customer,
        amount_cents=4200,
        currency="USD",
        status="failed",
        provider_payment_id="pi_1",
        attempts=1,
    )
    payload = event(
        "evt_9",
        "payment_intent.succeeded",
        {
            "id": "pi_1",
            "object": "payment_intent",
            "status": "succeeded",
            "metadata": {"payment_id": str(payment.lago_id), "attempt": "1"},
        },
    )
    client.post(
        "/webhooks/stripe",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=sign(payload),
    )
    entry = entries("payments.payment", action="updated").last()
    assert (entry.actor, entry.source) == ("stripe:evt_9", "webhook")
    assert entry.changes["status"] == ["failed", "succeeded"]


def test_secrets_are_never_recorded_and_rollbacks_leave_nothing(db):
    from core.services import api_key_create

    _, raw = api_key_create(name="ci")
    entry = entries("core.apikey").get()
    assert "digest" not in str(entry.changes) and raw not in str(entry.changes)
    with pytest.raises(RuntimeError), transaction.atomic():
        customer_upsert(data={"external_id": "ghost", "currency": "USD"})
        raise RuntimeError
    assert not Customer.objects.filter(external_id="ghost").exists()
    assert not entries("customers.customer").exists()


def test_a_reason_travels_with_the_changes(db):
    from core.auditing import because

    with because("customer asked by phone"):
        customer_upsert(data={"external_id": "acme", "currency": "USD"})
    assert entries("customers.customer").get().reason == "customer asked by phone"


def test_the_trail_exports_for_those_allowed(admin_client):
    customer_upsert(data={"external_id": "acme", "currency": "USD"})
    response = admin_client.post("/admin/core/auditentry/export/", {"format": "0", **_all_fields()})
    assert response.status_code == 200, response.content.decode()[:500]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert any(row["object_type"] == "customers.customer" for row in rows)


def _all_fields() -> dict:
    names = [
        "id",
        "at",
        "actor",
        "source",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
        "reason",
    ]
    return {f"auditentryexport_{name}": "on" for name in names}


@pytest.mark.postgres
def test_the_trail_is_append_only_in_the_database(db):
    from django.db import DatabaseError

    customer_upsert(data={"external_id": "acme", "currency": "USD"})
    entry = AuditEntry.objects.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(actor="someone else")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
