"""Webhook tasks: one delivery attempt per task, and the beat task that catches up on retries."""

from celery import shared_task
from django.utils import timezone

from webhooks.models import WebhookDelivery
from webhooks.selectors import deliveries_due
from webhooks.services import webhook_deliver


@shared_task(name="webhooks.deliver", acks_late=True, ignore_result=True)
def deliver_webhook(delivery_id: int) -> None:
    """Attempt one delivery; running it twice sends nothing more once it succeeded."""
    delivery = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if delivery is not None:
        webhook_deliver(delivery=delivery)


@shared_task(name="webhooks.retry_due", acks_late=True, ignore_result=True)
def retry_due_webhooks() -> None:
    """Enqueue one attempt per delivery that is due (retries, expired leases, lost enqueues)."""
    for delivery_id in deliveries_due(timezone.now()):
        deliver_webhook.delay(delivery_id)
