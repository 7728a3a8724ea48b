"""Follow-ups of new usage: bill pay-in-advance charges and check usage thresholds.

A run reads the database only (usage so far against what is billed, thresholds against the
AppliedUsageThreshold rows), each part in one transaction under the subscription's row lock, so
it may run at any time, any number of times. What makes it run: a debounced task after the
events' commit (invoices/tasks.py), the beat sweep below for any run that was lost, and in the
end the period close, which bills whatever in-advance usage no run billed."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q

from customers.models import Subscription
from invoices.services.advance import subscription_bill_in_advance
from invoices.services.progressive import subscription_check_thresholds
from usage.selectors import subscriptions_with_usage_received_since


def subscription_usage_followup(
    *, external_subscription_id: str, now: datetime | None = None
) -> None:
    """Bill the in-advance usage not billed yet and invoice any newly crossed threshold."""
    subscription = Subscription.objects.filter(
        external_id=external_subscription_id, status=Subscription.Status.ACTIVE
    ).first()
    if subscription is None:
        return
    subscription_bill_in_advance(subscription_id=subscription.pk, now=now)
    subscription_check_thresholds(subscription_id=subscription.pk, now=now)


def subscriptions_to_sweep(now: datetime) -> list[str]:
    """External ids of active subscriptions with in-advance charges or usage thresholds whose
    usage moved (billable events received) in the last USAGE_FOLLOWUP_SWEEP_SECONDS."""
    since = now - timedelta(seconds=settings.USAGE_FOLLOWUP_SWEEP_SECONDS)
    followed = Q(plan__usage_thresholds__isnull=False) | Q(
        plan__charges__pay_in_advance=True,
        plan__charges__invoiceable=True,
        plan__charges__deleted_at__isnull=True,
    )
    rows = (
        Subscription.objects.filter(
            followed,
            status=Subscription.Status.ACTIVE,
            external_id__in=subscriptions_with_usage_received_since(since),
        )
        .order_by("external_id")
        .values_list("external_id", flat=True)
        .distinct()
    )
    return list(rows)
