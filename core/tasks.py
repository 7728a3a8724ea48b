"""System tasks run by beat."""

from celery import shared_task

from core.services import heartbeat_record


@shared_task(name="core.heartbeat", acks_late=True, ignore_result=True)
def heartbeat() -> None:
    """Record that beat scheduled and a worker executed a task (seen in the admin)."""
    heartbeat_record(name="beat")


@shared_task(name="core.run_bulk_job", acks_late=True, ignore_result=True)
def run_bulk_job(job_id: int) -> None:
    """A bulk admin action, item by item (safe to run twice: it resumes, each item idempotent)."""
    from core.bulk import bulk_job_run

    bulk_job_run(job_id=job_id)


@shared_task(name="core.purge_api_logs", acks_late=True, ignore_result=True)
def purge_api_logs() -> None:
    """Delete API logs past their retention (API_LOG_RETENTION_DAYS)."""
    from core.services import api_logs_purge

    api_logs_purge()
