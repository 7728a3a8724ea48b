"""A subscription's lifetime usage as Lago shows it (GET/PUT /subscriptions/{id}/lifetime_usage):
historical usage (set by the client), usage invoiced at earlier period ends and the current
period's, all in-arrears usage as progressive billing counts it (invoices.services.progressive),
and how far each usage threshold of the plan is reached."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from django.db import transaction
from django.utils import timezone

from core.errors import ValidationFailed
from customers.models import Subscription
from invoices.models import AppliedUsageThreshold, LifetimeUsage
from invoices.services.progressive import historical_usage_cents, invoiced_usage_cents
from usage.reports import charges_period_bounds, subscription_usage

# lago_id of a lifetime usage: derived from the subscription's, stable with or without a row.
NAMESPACE = uuid.UUID("7c1e5d2a-4f0b-4d6e-9a51-3b8f2c6d9e10")
MAX_CENTS = 2**63 - 1


@dataclass(frozen=True)
class Lifetime:
    subscription: Subscription
    historical_cents: int
    invoiced_cents: int
    current_cents: int
    at: datetime

    @property
    def lago_id(self) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, str(self.subscription.lago_id))

    @property
    def total_cents(self) -> int:
        return self.historical_cents + self.invoiced_cents + self.current_cents


@dataclass(frozen=True)
class ThresholdProgress:
    amount_cents: int
    completion_ratio: Fraction
    reached_at: datetime | None


def lifetime_usage_get(subscription: Subscription, now: datetime | None = None) -> Lifetime:
    """The lifetime usage now: the current charges period's in-arrears usage (active only) on
    top of what period invoices billed before it and the historical amount."""
    now = now or timezone.now()
    current, before = 0, now
    if subscription.status == Subscription.Status.ACTIVE:
        lower, upper = charges_period_bounds(subscription, now)
        before = lower = max(lower, subscription.started_at)
        current = subscription_usage(subscription, lower, upper, billable_only=True).amount_cents
    invoiced = invoiced_usage_cents(subscription, before) if subscription.started_at else 0
    return Lifetime(subscription, historical_usage_cents(subscription), invoiced, current, now)


@transaction.atomic
def lifetime_usage_update(*, subscription: Subscription, data: dict) -> LifetimeUsage:
    """Set external_historical_usage_amount_cents: an integer of minor units, 0 or more."""
    value = data.get("external_historical_usage_amount_cents")
    field = "external_historical_usage_amount_cents"
    if value is None:
        raise ValidationFailed({field: ["value_is_mandatory"]})
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed({field: ["invalid_format"]})
    if not 0 <= value <= MAX_CENTS:
        raise ValidationFailed({field: ["value_is_out_of_range"]})
    lago_id = uuid.uuid5(NAMESPACE, str(subscription.lago_id))
    row, _ = LifetimeUsage.objects.select_for_update().get_or_create(
        subscription=subscription, defaults={"lago_id": lago_id}
    )
    row.historical_usage_amount_cents = value
    row.save(update_fields=["historical_usage_amount_cents", "updated_at"])
    return row


def thresholds_progress(lifetime: Lifetime) -> list[ThresholdProgress]:
    """Lago's UsageThresholdsCompletionService: fixed thresholds passed (ratio 1, when their
    invoice was made), the next one's completion since the last passed, those after it at 0;
    with every fixed threshold passed, each recurring step passed and the step in progress."""
    thresholds = list(lifetime.subscription.plan.usage_thresholds.all())
    fixed = sorted((t for t in thresholds if not t.recurring), key=lambda t: t.amount_cents)
    recurring = next((t for t in thresholds if t.recurring), None)
    total = lifetime.total_cents
    passed = [t for t in fixed if t.amount_cents <= total]
    ahead = [t for t in fixed if t.amount_cents > total]
    found = [
        ThresholdProgress(t.amount_cents, Fraction(1), _reached(lifetime, t, 1)) for t in passed
    ]
    last = passed[-1].amount_cents if passed else 0
    if ahead:
        first, *rest = ahead
        ratio = Fraction(total - last, first.amount_cents - last)
        found.append(ThresholdProgress(first.amount_cents, ratio, None))
        found += [ThresholdProgress(t.amount_cents, Fraction(0), None) for t in rest]
        if recurring:
            found.append(
                ThresholdProgress(
                    fixed[-1].amount_cents + recurring.amount_cents, Fraction(0), None
                )
            )
    elif recurring:
        found += _recurring_progress(lifetime, recurring, last)
    return found


def _recurring_progress(lifetime: Lifetime, recurring, last: int) -> list[ThresholdProgress]:
    step, total = recurring.amount_cents, lifetime.total_cents
    done = (total - last) // step
    found = [
        ThresholdProgress(last + n * step, Fraction(1), _reached(lifetime, recurring, n))
        for n in range(1, done + 1)
    ]
    into = (total - last) % step
    found.append(ThresholdProgress(last + (done + 1) * step, Fraction(into, step), None))
    return found


def _reached(lifetime: Lifetime, threshold, occurrence: int) -> datetime:
    """When the progressive invoice of that step was made; now if none was (Lago's fallback:
    reached by usage no invoice has billed yet, or by invoiced or historical usage)."""
    applied = AppliedUsageThreshold.objects.filter(
        subscription=lifetime.subscription, usage_threshold=threshold, occurrence=occurrence
    ).first()
    return applied.created_at if applied else lifetime.at
