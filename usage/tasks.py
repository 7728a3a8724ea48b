"""Beat tasks for usage storage."""

from celery import shared_task
from django.utils import timezone

from usage import partitions


@shared_task(name="usage.ensure_event_partitions", acks_late=True, ignore_result=True)
def ensure_event_partitions(months_ahead: int = 3) -> list[str]:
    """Create the monthly event partitions from this month to `months_ahead` later (PostgreSQL);
    safe to run any number of times."""
    return partitions.ensure_months(timezone.now().date(), months_ahead + 1)
