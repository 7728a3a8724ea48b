"""Bulk actions: a job row per run, a Celery task that works through it item by item with the
single-item services (each idempotent), recording progress the admin page polls."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.models import BulkJob


def bulk_job_start(*, kind: str, object_ids: list[int], created_by: str) -> BulkJob:
    from core.tasks import run_bulk_job

    job = BulkJob.objects.create(
        kind=kind, object_ids=list(object_ids), total=len(object_ids), created_by=created_by
    )
    transaction.on_commit(lambda: run_bulk_job.delay(job.pk))
    return job


def _bill_now(object_id: int) -> None:
    from customers.models import Subscription
    from invoices.services import subscription_bill_due, subscription_schedule

    subscription_schedule(subscription=Subscription.objects.get(pk=object_id))
    subscription_bill_due(subscription_id=object_id)


def _finalize(object_id: int) -> None:
    from invoices.models import Invoice
    from invoices.services import invoice_finalize

    invoice_finalize(invoice=Invoice.objects.get(pk=object_id))


def _retry_payment(object_id: int) -> None:
    from invoices.models import Invoice
    from payments.services import payment_retry_now

    payment_retry_now(invoice=Invoice.objects.get(pk=object_id))


STEPS = {
    BulkJob.Kind.BILL_NOW: _bill_now,
    BulkJob.Kind.FINALIZE: _finalize,
    BulkJob.Kind.RETRY_PAYMENTS: _retry_payment,
}


def bulk_job_run(*, job_id: int) -> BulkJob:
    """Work through the items not done yet (a rerun after a crash resumes where it stopped)."""
    from django.core.exceptions import ObjectDoesNotExist

    from core.errors import BillingError

    with transaction.atomic():
        job = BulkJob.objects.select_for_update().get(pk=job_id)
        if job.status == BulkJob.Status.DONE:
            return job
        job.status = BulkJob.Status.RUNNING
        job.save(update_fields=["status"])
    step = STEPS[job.kind]
    for object_id in job.object_ids[job.done + job.failed :]:
        try:
            step(object_id)
        except (BillingError, ObjectDoesNotExist) as exc:
            errors = [*job.errors, {"id": object_id, "error": str(exc)[:300]}]
            BulkJob.objects.filter(pk=job.pk).update(failed=F("failed") + 1, errors=errors)
            job.errors = errors
        else:
            BulkJob.objects.filter(pk=job.pk).update(done=F("done") + 1)
        job.refresh_from_db(fields=["done", "failed"])
    BulkJob.objects.filter(pk=job.pk).update(status=BulkJob.Status.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return job
