"""Beat tasks that move subscriptions through their states on time."""

from celery import shared_task
from django.utils import timezone

from customers.models import Customer, Subscription
from customers.services import (
    subscription_activate,
    subscriptions_due_for_activation,
    subscriptions_terminate_ended,
)
from customers.wallets import (
    customers_with_active_wallets,
    wallets_expire,
    wallets_refresh,
    wallets_run_recurring,
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


@shared_task(name="wallets.refresh", acks_late=True, ignore_result=True)
def wallets_refresh_all() -> int:
    """Beat: enqueue one wallet refresh (threshold top-ups, depletion alerts) per customer with
    an active wallet."""
    ids = customers_with_active_wallets()
    for customer_id in ids:
        wallets_refresh_customer.delay(customer_id)
    return len(ids)


@shared_task(name="wallets.refresh_customer", acks_late=True, ignore_result=True)
def wallets_refresh_customer(customer_id: int) -> None:
    """Threshold top-ups and depletion alerts of one customer; reruns add and send nothing."""
    customer = Customer.objects.filter(pk=customer_id).first()
    if customer is not None:
        wallets_refresh(customer=customer)


@shared_task(name="wallets.expire_and_recur", acks_late=True, ignore_result=True)
def wallets_expire_and_recur() -> None:
    """Beat (hourly): terminate expired wallets, then run the interval top-ups that are due."""
    now = timezone.now()
    wallets_expire(now=now)
    wallets_run_recurring(now=now, triggers=("interval",))
