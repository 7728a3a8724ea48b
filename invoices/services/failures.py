"""Isolation of the period close: one subscription that cannot be invoiced never stops the run.

`bill_due` and the beat's tasks bill subscriptions one by one through `subscription_bill_due_
isolated`. A billing that fails rolls back alone (each boundary is one transaction, see
close.py), is recorded as a BillingFailure (admin: Invoices > Billing failures) with a reason
code, announced once by an `invoice.generation_failed` webhook, and stays due: the next run
tries it again and, once it bills, the failure is marked resolved. Connection errors are not a
subscription's fault: they propagate, so the run (or the task) fails and is retried as a whole.
"""

import logging
from datetime import datetime

from django.db import DataError, InterfaceError, OperationalError, transaction
from django.utils import timezone

from core.limits import OUT_OF_RANGE
from customers.models import Subscription
from invoices.models import BillingFailure, Invoice
from invoices.services.close import BillingOutOfRange, due_boundary, subscription_bill_due
from invoices.services.lifecycle import draft_finalize_once, drafts_due_ids, invoice_finalize
from webhooks.services import webhook_send

logger = logging.getLogger(__name__)
GENERATION_ERROR = "invoice_generation_error"  # Lago's error code for a failed invoice
MESSAGE_CHARS = 1000
NOT_ISOLATED = (OperationalError, InterfaceError)  # the database is away: fail the whole run


def failure_code(exc: Exception) -> str:
    """value_is_out_of_range when the numbers do not fit; Lago's generic code otherwise."""
    if isinstance(exc, BillingOutOfRange | ArithmeticError | DataError):
        return OUT_OF_RANGE
    return GENERATION_ERROR


def subscription_bill_due_isolated(*, subscription_id: int, now: datetime | None = None):
    """subscription_bill_due, with a failure recorded instead of raised: the invoices made,
    or None when it failed (recorded)."""
    now = now or timezone.now()
    try:
        invoices = subscription_bill_due(subscription_id=subscription_id, now=now)
    except NOT_ISOLATED:
        raise
    except Exception as exc:
        logger.exception("billing subscription %s failed", subscription_id)
        subscription = Subscription.objects.get(pk=subscription_id)
        due = due_boundary(subscription, now) or (subscription.next_billing_at or now, "")
        billing_failure_record(subscription=subscription, boundary=due[0], reason=due[1], exc=exc)
        return None
    BillingFailure.objects.filter(
        subscription_id=subscription_id, resolved_at__isnull=True, boundary__lte=now
    ).update(resolved_at=now)
    return invoices


def invoice_finalize_isolated(*, invoice: Invoice, now: datetime | None = None):
    """invoice_finalize (which refreshes a draft's fees with late events), failures recorded
    per billing of the draft; the draft stays a draft and the next run tries again."""
    now = now or timezone.now()
    try:
        return invoice_finalize(invoice=invoice, now=now)
    except NOT_ISOLATED:
        raise
    except Exception as exc:
        _finalize_failed(invoice.pk, exc)
        return None


def drafts_finalize_due_isolated(*, now: datetime) -> tuple[list[Invoice], int]:
    """The drafts due at `now`, each alone: the ones THIS run finalized (a concurrent run's
    are not reported twice, see drafts_finalize_due) and how many failed (recorded)."""
    finalized, failed = [], 0
    for invoice_id in drafts_due_ids(now):
        try:
            invoice = draft_finalize_once(invoice_id=invoice_id, now=now)
        except NOT_ISOLATED:
            raise
        except Exception as exc:
            _finalize_failed(invoice_id, exc)
            failed += 1
            continue
        finalized += [invoice] if invoice is not None else []
    return finalized, failed


def _finalize_failed(invoice_id: int, exc: Exception) -> None:
    """Record a draft's failed finalization against each subscription billing it carries."""
    logger.exception("finalizing invoice %s failed", invoice_id)
    billings = Invoice.objects.get(pk=invoice_id).billings.select_related("subscription")
    for billing in billings:
        billing_failure_record(
            subscription=billing.subscription,
            boundary=billing.boundary,
            reason=billing.invoicing_reason,
            exc=exc,
        )


@transaction.atomic
def billing_failure_record(
    *, subscription: Subscription, boundary: datetime, reason: str, exc: Exception
) -> BillingFailure:
    """One row per (subscription, boundary), counting attempts; the webhook on the first."""
    now = timezone.now()
    code, message = failure_code(exc), (str(exc) or type(exc).__name__)[:MESSAGE_CHARS]
    failure, created = BillingFailure.objects.select_for_update().get_or_create(
        subscription=subscription,
        boundary=boundary,
        defaults={
            "invoicing_reason": reason,
            "code": code,
            "message": message,
            "first_failed_at": now,
            "last_failed_at": now,
        },
    )
    if not created:
        failure.attempts += 1
        failure.code, failure.message, failure.last_failed_at = code, message, now
        failure.resolved_at = None
        failure.save()
    if created:
        _notify(failure)
    return failure


def billing_failure_json(failure: BillingFailure) -> dict:
    subscription = failure.subscription
    return {
        "lago_subscription_id": str(subscription.lago_id),
        "external_subscription_id": subscription.external_id,
        "external_customer_id": subscription.customer.external_id,
        "boundary": failure.boundary,
        "invoicing_reason": failure.invoicing_reason or None,
        "error_code": failure.code,
        "error_message": failure.message,
        "attempts": failure.attempts,
        "failed_at": failure.first_failed_at,
    }


def _notify(failure: BillingFailure) -> None:
    webhook_send(
        webhook_type="invoice.generation_failed",
        object_type="billing_failure",
        data=billing_failure_json(failure),
    )
