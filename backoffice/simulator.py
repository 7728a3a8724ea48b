"""The pricing simulator: re-rate customers' actual usage of their last closed periods under
another plan (an existing one, or a draft given as Lago plan JSON) and compare with what was
billed. Nothing is saved or sent: a draft plan lives in a savepoint that is rolled back, and
the usage is priced by the same code as invoices (usage.reports)."""

import copy
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Sum

from customers.models import Customer, Subscription
from plans.models import Plan
from plans.price_lists import price_list


@dataclass
class PeriodResult:
    from_date: str
    billed_cents: int
    simulated_cents: int


@dataclass
class CustomerResult:
    customer: Customer
    currency: str
    periods: list[PeriodResult] = field(default_factory=list)

    @property
    def billed_cents(self) -> int:
        return sum(p.billed_cents for p in self.periods)

    @property
    def simulated_cents(self) -> int:
        return sum(p.simulated_cents for p in self.periods)

    @property
    def difference_cents(self) -> int:
        return self.simulated_cents - self.billed_cents


class _Rollback(Exception):
    """Raised to undo a draft plan once the simulation has read what it needs."""


def _billed(subscription: Subscription, lower, upper) -> int:
    """What the invoices charged for this subscription's period (fees before tax)."""
    from invoices.models import Fee, Invoice

    return (
        Fee.objects.filter(
            subscription__external_id=subscription.external_id,
            invoice__status=Invoice.Status.FINALIZED,
            fee_type__in=["subscription", "charge", "commitment"],
            from_datetime__gte=lower,
            to_datetime__lte=upper,
        ).aggregate(total=Sum("amount_cents"))["total"]
        or 0
    )


def _simulated(subscription: Subscription, plan: Plan, lower, upper) -> int:
    """The period under `plan`: its base fee (full period) plus its charges on the usage."""
    from usage.reports import subscription_usage

    candidate = copy.copy(subscription)
    candidate.plan = plan
    report = subscription_usage(candidate, lower, upper, billable_only=False)
    prices = price_list(plan, report.currency, upper.date())
    return prices.base_amount_cents + report.amount_cents


def _simulate(plan: Plan, customers, periods: int) -> list[CustomerResult]:
    from usage.reports import past_periods

    results = []
    for customer in customers:
        subscriptions = Subscription.objects.filter(customer=customer).exclude(
            status=Subscription.Status.PENDING
        )
        result = None
        for subscription in subscriptions.select_related("plan", "customer"):
            for lower, upper in past_periods(subscription)[:periods]:
                result = result or CustomerResult(customer, report_currency(subscription))
                result.periods.append(
                    PeriodResult(
                        from_date=lower.date().isoformat(),
                        billed_cents=_billed(subscription, lower, upper),
                        simulated_cents=_simulated(subscription, plan, lower, upper),
                    )
                )
        if result is not None:
            results.append(result)
    return results


def report_currency(subscription: Subscription) -> str:
    from customers.selectors import subscription_currency

    return subscription_currency(subscription)


def pricing_simulate(
    *, customers, periods: int, plan: Plan | None = None, draft: dict | None = None
) -> list[CustomerResult]:
    """Results per customer for the last `periods` closed periods. With `draft` (Lago's plan
    JSON), the plan is created inside a savepoint, used, and rolled back."""
    if plan is not None:
        return _simulate(plan, customers, periods)
    from plans.services import plan_create

    holder: list = []
    try:
        with transaction.atomic():
            draft_plan = plan_create(data={**draft, "code": f"simulation-{draft.get('code', 'x')}"})
            holder.extend(_simulate(draft_plan, customers, periods))
            raise _Rollback
    except _Rollback:
        pass
    return holder
