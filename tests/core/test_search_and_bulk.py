"""Global search across customers, invoices, subscriptions and events; bulk jobs with a
confirmation, a progress record, resumable and idempotent."""

import pytest

from core.bulk import bulk_job_run, bulk_job_start
from core.models import BulkJob
from customers.services import customer_upsert
from invoices.models import Invoice
from tests.payments.helpers import finalized_invoice

pytestmark = pytest.mark.django_db


@pytest.fixture
def billed(api):
    customer_upsert(
        data={
            "external_id": "acme",
            "name": "Acme AI",
            "email": "billing@acme.example",
            "currency": "USD",
        }
    )
    invoice = finalized_invoice()
    api.post(
        "/api/v1/events",
        {"event": {"transaction_id": "tx-42", "code": "nothing", "external_subscription_id": "s"}},
        format="json",
    )
    return invoice


def test_global_search_finds_each_kind(admin_client, billed):
    def found(q: str) -> str:
        return admin_client.get("/admin/search/", {"q": q}).content.decode()

    assert "/admin/customers/customer/" in found("acme.example")
    assert f"/admin/invoices/invoice/{billed.pk}/change/" in found(billed.number)
    assert "/admin/customers/subscription/" in found("s")
    assert "transaction_id=tx-42" in found("tx-42")
    assert "Type at least two characters." in found("x")


def test_a_finalize_job_runs_item_by_item_and_twice_changes_nothing(
    admin_client, billed, django_capture_on_commit_callbacks
):
    draft = Invoice.objects.create(
        customer=billed.customer,
        invoice_type="one_off",
        currency="USD",
        issuing_date=billed.issuing_date,
        payment_due_date=billed.issuing_date,
    )
    form = {"action": "bulk_finalize", "_selected_action": [draft.pk, billed.pk]}
    confirm = admin_client.post("/admin/invoices/invoice/", form)
    assert "<strong>1</strong> item(s)" in confirm.content.decode()  # one is not a draft
    with django_capture_on_commit_callbacks(execute=True):
        started = admin_client.post("/admin/invoices/invoice/", {**form, "post": "yes"})
    job = BulkJob.objects.get()
    assert started["Location"] == f"/admin/core/bulkjob/{job.pk}/change/"
    assert (job.status, job.done, job.failed, job.created_by) == ("done", 1, 0, "admin")
    draft.refresh_from_db()
    assert draft.status == "finalized" and draft.number
    number = draft.number
    BulkJob.objects.filter(pk=job.pk).update(status="running", done=0)  # as if it crashed
    bulk_job_run(job_id=job.pk)
    draft.refresh_from_db()
    assert draft.number == number  # finalized once


def test_a_running_job_page_refreshes_itself_and_failures_are_listed(admin_client, billed):
    job = bulk_job_start(kind="retry_payments", object_ids=[billed.pk, 999_999], created_by="admin")
    page = admin_client.get(f"/admin/core/bulkjob/{job.pk}/change/").content.decode()
    assert 'http-equiv="refresh"' in page
    bulk_job_run(job_id=job.pk)
    job.refresh_from_db()
    # Acme pays by transfer: its retry is refused with the reason, not counted as done.
    assert (job.status, job.done, job.failed) == ("done", 0, 2)
    assert [error["id"] for error in job.errors] == [billed.pk, 999_999]
    assert job.errors[0]["error"].startswith("customer_must_have_payment_provider")
    page = admin_client.get(f"/admin/core/bulkjob/{job.pk}/change/").content.decode()
    assert 'http-equiv="refresh"' not in page and "0 done, 2 failed of 2" in page
