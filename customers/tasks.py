"""Beat tasks that move subscriptions through their states on time."""

from celery import shared_task
from django.utils import timezone

from customers.models import Subscription
from customers.services import (
    subscription_activate,
    subscriptions_due_for_activation,
    subscriptions_terminate_ended,
)


@shared_task(name="customers.activate_due_subscriptions", acks_late=True, ignore_result=True)
def activate_due_subscriptions() -> None:
    """Enqueue one activation per pending subscription whose start has come."""
    for subscription_id in subscriptions_due_for_activation(timezone.now()):
        activate_subscription.delay(subscription_id)


@shared_task(name="customers.activate_subscription", acks_late=True, ignore_result=True)
def activate_subscription(subscription_id: int) -> None:
    """Start one pending subscription; running it twice changes nothing."""
    subscription = Subscription.objects.filter(pk=subscription_id).first()
    if subscription is not None:
        subscription_activate(subscription=subscription, now=timezone.now())


@shared_task(name="customers.terminate_ended_subscriptions", acks_late=True, ignore_result=True)
def terminate_ended_subscriptions() -> None:
    """Terminate active subscriptions whose ending_at has passed."""
    subscriptions_terminate_ended(timezone.now())
