"""Beat and worker tasks of invoicing. Each takes ids, calls a service, is safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from invoices.models import Invoice
from invoices.services import (
    invoice_finalize,
    invoices_mark_overdue,
    subscription_bill_due,
    subscriptions_due,
)


@shared_task(name="invoices.bill_due_subscriptions", acks_late=True, ignore_result=True)
def bill_due_subscriptions() -> int:
    """Beat: enqueue one billing task per subscription with a billing due."""
    ids = subscriptions_due(timezone.now())
    for subscription_id in ids:
        bill_subscription.delay(subscription_id)
    return len(ids)


@shared_task(name="invoices.bill_subscription", acks_late=True, ignore_result=True)
def bill_subscription(subscription_id: int) -> None:
    """Bill every due boundary of one subscription (the unique constraint makes reruns no-ops)."""
    subscription_bill_due(subscription_id=subscription_id)


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
    invoice_finalize(invoice=Invoice.objects.get(pk=invoice_id))


@shared_task(name="invoices.mark_overdue", acks_late=True, ignore_result=True)
def mark_overdue() -> int:
    """Beat: flag unpaid invoices past their due date."""
    return invoices_mark_overdue(today=timezone.now().date())


@shared_task(name="invoices.deliver_finalized_invoice", acks_late=True, ignore_result=True)
def deliver_finalized_invoice(invoice_id: int) -> None:
    """Render and store the PDF, then e-mail it (each step skips what is done already)."""
    from invoices.documents import invoice_email_send, invoice_pdf_store

    invoice = Invoice.objects.get(pk=invoice_id)
    invoice = invoice_pdf_store(invoice=invoice)
    invoice_email_send(invoice=invoice)


def schedule_usage_followups(external_subscription_ids: set[str]) -> None:
    """After new usage: enqueue its follow-ups once per subscription per
    USAGE_FOLLOWUP_DELAY_SECONDS, so a burst of events makes one run, not one per event."""
    delay = settings.USAGE_FOLLOWUP_DELAY_SECONDS
    for external_id in sorted(external_subscription_ids):
        if delay and not cache.add(f"usage-followup:{external_id}", 1, timeout=delay):
            continue  # a run is already scheduled and will see these events
        usage_followup.apply_async((external_id,), countdown=delay)


@shared_task(name="invoices.usage_followup", acks_late=True, ignore_result=True)
def usage_followup(external_subscription_id: str) -> None:
    """Bill pay-in-advance charges and check usage thresholds for new usage (both compute
    deltas from the database, so a rerun bills nothing twice)."""
    from customers.models import Subscription
    from invoices.services.advance import subscription_bill_in_advance
    from invoices.services.progressive import subscription_check_thresholds

    subscription = Subscription.objects.filter(
        external_id=external_subscription_id, status=Subscription.Status.ACTIVE
    ).first()
    if subscription is None:
        return
    subscription_bill_in_advance(subscription_id=subscription.pk)
    subscription_check_thresholds(subscription_id=subscription.pk)


@shared_task(name="invoices.check_usage_thresholds", acks_late=True, ignore_result=True)
def check_usage_thresholds() -> int:
    """Beat: progressive billing for subscriptions whose plan has usage thresholds (catches
    what the per-burst follow-up missed)."""
    from customers.models import Subscription

    ids = (
        Subscription.objects.filter(
            status=Subscription.Status.ACTIVE, plan__usage_thresholds__isnull=False
        )
        .values_list("external_id", flat=True)
        .distinct()
    )
    for external_id in ids:
        usage_followup.delay(external_id)
    return len(ids)
