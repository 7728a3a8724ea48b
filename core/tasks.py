"""System tasks run by beat."""

from celery import shared_task

from core.services import heartbeat_record


@shared_task(name="core.heartbeat", acks_late=True, ignore_result=True)
def heartbeat() -> None:
    """Record that beat scheduled and a worker executed a task (seen in the admin)."""
    heartbeat_record(name="beat")
