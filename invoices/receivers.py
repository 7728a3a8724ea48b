"""Invoicing's receivers of the hooks that customers and usage run (core/hooks.py).

Customers and usage are lower layers: they announce a start, a termination or new usage, and
invoicing bills it here. Receivers run in the caller's transaction, as the direct calls did."""

from django.db import transaction

from core import hooks
from invoices.selectors import events_in_invoiced_periods
from invoices.services import subscription_bill_due, subscription_schedule
from invoices.services.progressive import invoiced_usage_cents
from invoices.tasks import schedule_usage_followups


def subscription_bill_now(*, subscription, now=None) -> None:
    """A start schedules billing and may bill a base fee in advance; a termination bills its
    final invoice at once. Same transaction as the state change, so both commit or neither."""
    subscription_schedule(subscription=subscription)
    subscription_bill_due(subscription_id=subscription.pk, now=now)


def usage_followups_after_commit(*, external_subscription_ids: set[str]) -> None:
    """New usage may owe pay-in-advance fees or cross a usage threshold: schedule a (debounced)
    follow-up per subscription once the events are committed."""
    transaction.on_commit(lambda: schedule_usage_followups(external_subscription_ids))


def register_customer_and_usage_hooks() -> None:
    """Called from InvoicesConfig.ready()."""
    hooks.register("subscription.started", subscription_bill_now)
    hooks.register("subscription.terminated", subscription_bill_now)
    hooks.register("usage.events_stored", usage_followups_after_commit)
    hooks.register("usage.late_events", events_in_invoiced_periods)
    hooks.register("usage.invoiced_usage", invoiced_usage_cents)  # usage alerts' lifetime usage
