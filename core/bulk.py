"""Bulk actions: a job row per run, a Celery task that works through it item by item with the
single-item services (each idempotent), recording progress the admin page polls.

Apps above core add their kinds with `register_kind` from their AppConfig.ready (backoffice:
the admin actions' kinds; customers: plan deletion), so the runner never imports upward: a kind
may list its items when the job first runs (`items`) and close the job with a last step
(`finish`), both idempotent like the items."""

from collections.abc import Callable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.locks import lock_one
from core.models import BulkJob


def bulk_job_start(
    *, kind: str, object_ids: list[int], created_by: str, target_id: int | None = None
) -> BulkJob:
    from core.tasks import run_bulk_job

    job = BulkJob.objects.create(
        kind=kind,
        object_ids=list(object_ids),
        total=len(object_ids),
        created_by=created_by,
        target_id=target_id,
    )
    transaction.on_commit(lambda: run_bulk_job.delay(job.pk))
    return job


STEPS: dict[str, Callable[[int], None]] = {}
ITEMS: dict[str, Callable[[BulkJob], list[int]]] = {}
FINISH: dict[str, Callable[[BulkJob], None]] = {}


def register_kind(
    kind: str,
    *,
    step: Callable[[int], None],
    items: Callable[[BulkJob], list[int]] | None = None,
    finish: Callable[[BulkJob], None] | None = None,
) -> None:
    """Let an app above core run its own kind of job (see the module docstring)."""
    STEPS[kind] = step
    if items:
        ITEMS[kind] = items
    if finish:
        FINISH[kind] = finish


@transaction.atomic
def _claim(job_id: int) -> BulkJob:
    """Mark the job running; on its first run, list its items if its kind does. A job done
    already (a redelivered task) is returned as it is."""
    job = lock_one(BulkJob, job_id)
    if job.status == BulkJob.Status.DONE:
        return job
    if job.status == BulkJob.Status.QUEUED and job.kind in ITEMS:
        job.object_ids = ITEMS[job.kind](job)
        job.total = len(job.object_ids)
    job.status = BulkJob.Status.RUNNING
    job.save(update_fields=["status", "object_ids", "total"])
    return job


def _count(job: BulkJob, position: int, **changes) -> None:
    """Record item `position` as done or failed, once: a second run of the same job working on
    the same item at the same time finds the count moved and records nothing."""
    claimed = (
        BulkJob.objects.filter(pk=job.pk)
        .alias(progress=F("done") + F("failed"))
        .filter(progress=position)
    )
    claimed.update(**changes)


def bulk_job_run(*, job_id: int) -> BulkJob:
    """Work through the items not done yet (a rerun after a crash resumes where it stopped)."""
    from django.core.exceptions import ObjectDoesNotExist

    from core.errors import BillingError

    job = _claim(job_id)
    if job.status == BulkJob.Status.DONE:
        return job
    step = STEPS[job.kind]
    start = job.done + job.failed
    for position, object_id in enumerate(job.object_ids[start:], start=start):
        try:
            step(object_id)
        except (BillingError, ObjectDoesNotExist) as exc:
            errors = [*job.errors, {"id": object_id, "error": str(exc)[:300]}]
            _count(job, position, failed=F("failed") + 1, errors=errors)
        else:
            _count(job, position, done=F("done") + 1)
        job.refresh_from_db(fields=["done", "failed", "errors"])
    if job.kind in FINISH:
        FINISH[job.kind](job)
    BulkJob.objects.filter(pk=job.pk).update(status=BulkJob.Status.DONE, finished_at=timezone.now())
    job.refresh_from_db()
    return job
