"""DELETE /plans/{code} as Lago does it: the plan is marked pending deletion and the answer
comes at once; a job terminates (and bills) or cancels its subscriptions one by one, then
deletes the plan. The job is a bulk job the operator follows in the admin, safe to run twice."""

from datetime import UTC, datetime

import pytest
import time_machine

from core.bulk import bulk_job_run
from core.models import BulkJob
from customers.models import Subscription
from customers.services import subscription_close, subscription_create
from invoices.models import Invoice
from plans.models import Plan
from tests.factories import make_plan

pytestmark = pytest.mark.django_db
MAY_1 = datetime(2024, 5, 1, tzinfo=UTC)
MAY_16 = datetime(2024, 5, 16, tzinfo=UTC)
# 3,000 c a month in arrears, terminated on May 16 after 15 of May's 31 days:
# 3000 * 15/31 = 1451.6, rounded to 1452
TERMINATION_CENTS = 1452


@pytest.fixture
def pro():
    """A plan with five active subscriptions and one pending (starting in June)."""
    make_plan("pro", 3000)
    with time_machine.travel(MAY_1, tick=False):
        for n in range(5):
            subscription_create(
                data={"external_customer_id": f"c{n}", "plan_code": "pro", "external_id": f"s{n}"}
            )
        subscription_create(
            data={
                "external_customer_id": "later",
                "plan_code": "pro",
                "external_id": "z-pending",
                "subscription_at": "2024-06-01T00:00:00Z",
            }
        )
    return Plan.objects.get(code="pro")


def _statuses() -> list[str]:
    return list(Subscription.objects.order_by("external_id").values_list("status", flat=True))


def _termination_totals() -> list[int]:
    invoices = Invoice.objects.filter(billings__invoicing_reason="subscription_terminating")
    return sorted(invoices.values_list("total_amount_cents", flat=True))


def test_delete_answers_at_once_with_the_plan_pending_deletion_and_bills_nothing_yet(api, pro):
    with time_machine.travel(MAY_16, tick=False):
        response = api.delete("/api/v1/plans/pro")
    assert response.status_code == 200
    body = response.json()["plan"]
    assert (body["code"], body["pending_deletion"], body["active_subscriptions_count"]) == (
        "pro",
        True,
        5,
    )
    assert _statuses() == ["active"] * 5 + ["pending"]  # nothing terminated in the request
    assert Invoice.objects.count() == 0
    job = BulkJob.objects.get()
    assert (job.kind, job.target_id, job.status) == ("delete_plan", pro.pk, "queued")


def test_the_job_terminates_each_subscription_with_one_termination_invoice_then_deletes_the_plan(
    api, pro, django_capture_on_commit_callbacks
):
    with time_machine.travel(MAY_16, tick=False), django_capture_on_commit_callbacks(execute=True):
        api.delete("/api/v1/plans/pro")
    assert _statuses() == ["terminated"] * 5 + ["canceled"]
    assert _termination_totals() == [TERMINATION_CENTS] * 5
    job = BulkJob.objects.get()
    assert (job.status, job.total, job.done, job.failed, job.percent) == ("done", 6, 6, 0, 100)
    pro.refresh_from_db()
    assert pro.deleted_at == MAY_16 and pro.pending_deletion is False
    missing = api.get("/api/v1/plans/pro")
    assert (missing.status_code, missing.json()["code"]) == (404, "plan_not_found")


def test_running_the_job_again_or_an_item_twice_bills_nothing_twice(
    api, pro, django_capture_on_commit_callbacks
):
    with time_machine.travel(MAY_16, tick=False), django_capture_on_commit_callbacks(execute=True):
        api.delete("/api/v1/plans/pro")
    job = BulkJob.objects.get()
    BulkJob.objects.filter(pk=job.pk).update(status="running", done=2)  # as if it crashed
    with time_machine.travel(MAY_16, tick=False):
        bulk_job_run(job_id=job.pk)  # resumes from the third item
        bulk_job_run(job_id=job.pk)  # a redelivered task: the job is done
        subscription_close(subscription_id=job.object_ids[0])  # an item run once more
    job.refresh_from_db()
    assert (job.status, job.done, job.failed) == ("done", 6, 0)
    assert _termination_totals() == [TERMINATION_CENTS] * 5
    assert Invoice.objects.count() == 5


def test_a_plan_pending_deletion_gets_no_new_subscription(api, pro):
    api.delete("/api/v1/plans/pro")
    response = api.post(
        "/api/v1/subscriptions",
        {"subscription": {"external_customer_id": "new", "plan_code": "pro", "external_id": "n"}},
        format="json",
    )
    assert response.status_code == 422
    assert response.json() == {
        "status": 422,
        "error": "Unprocessable Entity",
        "code": "validation_errors",
        "error_details": {"plan_code": ["plan_pending_deletion"]},
    }
    assert not Subscription.objects.filter(external_id="n").exists()


def test_a_second_delete_while_pending_answers_the_same_and_starts_no_second_job(api, pro):
    first = api.delete("/api/v1/plans/pro").json()
    second = api.delete("/api/v1/plans/pro").json()
    assert second == first
    assert second["plan"]["pending_deletion"] is True
    assert BulkJob.objects.filter(kind="delete_plan").count() == 1


def test_the_admin_deletes_a_plan_through_the_same_job_and_shows_its_progress(
    admin_client, pro, django_capture_on_commit_callbacks
):
    form = {"action": "delete_plans", "_selected_action": [pro.pk]}
    with time_machine.travel(MAY_16, tick=False), django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/plans/plan/", form)
    assert response["Location"] == "/admin/core/bulkjob/?kind=delete_plan"
    job = BulkJob.objects.get()
    assert (job.kind, job.target_id, job.created_by) == ("delete_plan", pro.pk, "admin")
    page = admin_client.get(f"/admin/core/bulkjob/{job.pk}/change/").content.decode()
    assert "6 / 6 (100 %)" in page
    assert _termination_totals() == [TERMINATION_CENTS] * 5
    assert Plan.objects.get(pk=pro.pk).deleted_at == MAY_16
