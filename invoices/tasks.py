"""Beat and worker tasks of invoicing. Each takes ids, calls a service, is safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from invoices.models import Invoice
from invoices.selectors import overdue_today
from invoices.services import (
    invoices_mark_overdue,
    subscriptions_due,
    subscriptions_schedule_unscheduled,
)
from invoices.services.failures import invoice_finalize_isolated, subscription_bill_due_isolated
from invoices.services.followups import subscription_usage_followup, subscriptions_to_sweep


@shared_task(name="invoices.bill_due_subscriptions", acks_late=True, ignore_result=True)
def bill_due_subscriptions() -> int:
    """Beat: enqueue one billing task per subscription with a billing due."""
    now = timezone.now()
    scheduled = subscriptions_schedule_unscheduled()
    ids = subscriptions_due(now, scheduled=scheduled)
    for subscription_id in ids:
        bill_subscription.delay(subscription_id)
    return len(ids)


@shared_task(name="invoices.bill_subscription", acks_late=True, ignore_result=True)
def bill_subscription(subscription_id: int) -> None:
    """Bill every due boundary of one subscription (the unique constraint makes reruns no-ops);
    a failure is recorded on the subscription (invoices/services/failures.py), not raised."""
    subscription_bill_due_isolated(subscription_id=subscription_id)


@shared_task(name="invoices.finalize_due_drafts", acks_late=True, ignore_result=True)
def finalize_due_drafts() -> int:
    """Beat: enqueue the finalization of drafts whose grace period is over."""
    ids = list(
        Invoice.objects.filter(
            status=Invoice.Status.DRAFT, finalize_after__lte=timezone.now()
        ).values_list("pk", flat=True)
    )
    for invoice_id in ids:
        finalize_invoice.delay(invoice_id)
    return len(ids)


@shared_task(name="invoices.finalize_invoice", acks_late=True, ignore_result=True)
def finalize_invoice(invoice_id: int) -> None:
    invoice_finalize_isolated(invoice=Invoice.objects.get(pk=invoice_id))


@shared_task(name="invoices.mark_overdue", acks_late=True, ignore_result=True)
def mark_overdue() -> int:
    """Beat (on the hour, UTC): flag unpaid invoices past their due date."""
    return invoices_mark_overdue(today=overdue_today())


@shared_task(name="invoices.deliver_finalized_invoice", acks_late=True, ignore_result=True)
def deliver_finalized_invoice(invoice_id: int) -> None:
    """Render and store the PDF, then e-mail it (each step skips what is done already)."""
    from invoices.documents import invoice_email_send, invoice_pdf_store

    invoice = Invoice.objects.get(pk=invoice_id)
    invoice = invoice_pdf_store(invoice=invoice)
    invoice_email_send(invoice=invoice)


def _followup_key(external_subscription_id: str) -> str:
    return f"usage-followup:{external_subscription_id}"


def schedule_usage_followups(external_subscription_ids: set[str]) -> None:
    """After new usage is committed: enqueue a follow-up run per subscription, at most one per
    USAGE_FOLLOWUP_DELAY_SECONDS, so a burst of events makes one run, not one per event.

    No event is left behind: the key announcing a run expires when that run is due (its
    countdown), so an event skipped because of it was committed before the run reads usage,
    and the run deletes the key before reading, so an event committed after the read always
    schedules a run of its own (eager runs included). A run lost on the way leaves a key that
    expires: the next event schedules again, the beat sweep re-runs subscriptions whose usage
    moved, and the period close bills what no run did."""
    delay = settings.USAGE_FOLLOWUP_DELAY_SECONDS
    for external_id in sorted(external_subscription_ids):
        if delay and not cache.add(_followup_key(external_id), 1, timeout=delay):
            continue  # a run is due within `delay` seconds and will read these events
        usage_followup.apply_async((external_id,), countdown=delay)


@shared_task(name="invoices.usage_followup", acks_late=True, ignore_result=True)
def usage_followup(external_subscription_id: str) -> None:
    """Bill pay-in-advance charges and check usage thresholds for new usage (both compute
    deltas from the database under the subscription's lock: a rerun bills nothing twice)."""
    cache.delete(_followup_key(external_subscription_id))  # before usage is read
    subscription_usage_followup(external_subscription_id=external_subscription_id)


@shared_task(name="invoices.check_usage_thresholds", acks_late=True, ignore_result=True)
def check_usage_thresholds() -> int:
    """Beat (every 5 minutes): re-run the follow-up of every subscription with in-advance
    charges or usage thresholds whose usage moved lately, for the runs that were lost."""
    ids = subscriptions_to_sweep(timezone.now())
    for external_id in ids:
        usage_followup.delay(external_id)
    return len(ids)
