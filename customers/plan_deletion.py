"""The job behind DELETE /plans/{code} (Lago's Plans::DestroyJob): one item per live
subscription of the plan and its overrides, each terminated (billed at once) or canceled by the
same idempotent service as a single termination, then the plan leaves the catalog. Registered
with core's bulk jobs in CustomersConfig.ready, so the operator follows it like any bulk job."""

from core.bulk import register_kind
from core.models import BulkJob
from customers.models import Subscription
from customers.services import subscription_close, subscriptions_close_for_plan
from plans.models import Plan
from plans.services import plan_soft_delete

LIVE = [Subscription.Status.ACTIVE, Subscription.Status.PENDING]


def plan_subscription_ids(job: BulkJob) -> list[int]:
    """The job's items, listed when it first runs (after the plan was marked, so no new
    subscription can join it afterwards)."""
    plan = Plan.objects.get(pk=job.target_id)
    rows = Subscription.objects.filter(plan__in=[plan, *plan.overrides.all()], status__in=LIVE)
    return list(rows.order_by("pk").values_list("pk", flat=True))


def plan_deletion_finish(job: BulkJob) -> None:
    """Close what is still live (nothing, unless an item failed), then delete the plan."""
    plan = Plan.objects.get(pk=job.target_id)
    subscriptions_close_for_plan(plan=plan)
    plan_soft_delete(plan=plan)


def register() -> None:
    register_kind(
        BulkJob.Kind.DELETE_PLAN,
        step=lambda subscription_id: subscription_close(subscription_id=subscription_id),
        items=plan_subscription_ids,
        finish=plan_deletion_finish,
    )
