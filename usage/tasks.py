"""Beat tasks for usage storage."""

from celery import shared_task
from django.utils import timezone

from usage import partitions


@shared_task(name="usage.ensure_event_partitions", acks_late=True, ignore_result=True)
def ensure_event_partitions(months_ahead: int = 3) -> list[str]:
    """Create the monthly event partitions from this month to `months_ahead` later (PostgreSQL);
    safe to run any number of times."""
    return partitions.ensure_months(timezone.now().date(), months_ahead + 1)


@shared_task(name="usage.process_alerts", acks_late=True, ignore_result=True)
def process_alerts() -> int:
    """Evaluate the usage alerts of the flagged subscriptions and wallets (beat every minute,
    and debounced after ingestion); reruns trigger nothing twice."""
    from django.core.cache import cache

    from usage.alerts import BATCH, DEBOUNCE_KEY, alerts_process_flagged

    cache.delete(DEBOUNCE_KEY)  # before the flags are read: later usage schedules a new run
    claimed, triggered = alerts_process_flagged(limit=BATCH)
    if claimed >= BATCH:
        process_alerts.delay()  # more are waiting: the next batch now, not at the next beat
    return len(triggered)
