"""Pay-in-advance charges: billed as usage arrives, not at the period's end.

Rather than one invoice per event, a run bills the difference between the price of the period's
usage so far and what its in-advance fees already billed, per charge, filter and group, under the
subscription's row lock. Running it after every ingestion burst (debounced) is therefore
idempotent and self-correcting: a second run right after the first finds nothing left to bill; a
retried burst bills once. A run bills the current charges period; whatever no run billed (a lost
or late follow-up) the period close sweeps onto the period invoice as in-advance fees
(`unbilled_in_advance_fees`, called from `fees.period_plan`), which later runs count as billed."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from customers.models import Subscription
from invoices.models import Invoice, InvoiceSubscription
from invoices.services.close import billing_invoice_create
from invoices.services.deltas import unbilled_in_advance_fees
from invoices.services.fees import BillingPlan
from invoices.services.lifecycle import invoice_finalize, notify
from usage.reports import charges_period_bounds


@transaction.atomic
def subscription_bill_in_advance(
    *, subscription_id: int, now: datetime | None = None
) -> Invoice | None:
    """Invoice what the pay-in-advance charges of the current period have not billed yet."""
    now = now or timezone.now()
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("customer", "plan")
        .get(pk=subscription_id)
    )
    if subscription.status != Subscription.Status.ACTIVE:
        return None
    lower, upper = charges_period_bounds(subscription, now)
    lower = max(lower, subscription.started_at)
    fees = unbilled_in_advance_fees(subscription, lower, upper)
    if not fees:
        return None
    plan = BillingPlan(
        subscription=subscription,
        boundary=now,
        reason=InvoiceSubscription.Reason.IN_ADVANCE,
        from_datetime=lower,
        to_datetime=upper,
        charges_from=lower,
        charges_to=upper,
        fees=fees,
    )
    invoice = billing_invoice_create(plan, now)
    notify(invoice, "invoice.created")
    return invoice_finalize(invoice=invoice, now=now)  # no grace period for in-advance fees
