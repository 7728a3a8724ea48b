"""Pay-in-advance charges: billed as usage arrives, not at the period's end.

Rather than one invoice per event, a run bills the difference between the price of the period's
usage so far and what its in-advance fees already billed, per charge, filter and group. Running
it after every ingestion burst (debounced) is therefore idempotent and self-correcting: a second
run right after the first finds nothing left to bill; a retried burst bills once."""

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from customers.models import Subscription
from invoices.models import Fee, Invoice, InvoiceSubscription
from invoices.services.close import _create_invoice
from invoices.services.fees import BillingPlan, FeeSpec
from invoices.services.lifecycle import invoice_finalize, notify
from usage.aggregation import Window
from usage.reports import charge_usage, charges_period_bounds, lineage_start


def _already_billed(subscription: Subscription, charge, since: datetime) -> dict:
    """(filter id, group) -> (cents, units) billed in advance for this charge this period."""
    billed: dict = defaultdict(lambda: [0, 0])
    fees = Fee.objects.filter(
        subscription=subscription, charge=charge, pay_in_advance=True, from_datetime__gte=since
    ).exclude(invoice__status=Invoice.Status.VOIDED)
    for filter_id, grouped_by, cents, units in fees.values_list(
        "charge_filter_id", "grouped_by", "amount_cents", "units"
    ):
        key = (filter_id or 0, tuple(sorted(grouped_by.items())))
        billed[key][0] += cents
        billed[key][1] += units
    return billed


def _delta_fees(subscription: Subscription, lower: datetime, upper: datetime) -> list[FeeSpec]:
    window = Window(subscription.external_id, lower, upper, lineage_start(subscription))
    currency = subscription.plan.amount_currency
    charges = (
        subscription.plan.charges.live()
        .filter(pay_in_advance=True, invoiceable=True)
        .select_related("billable_metric")
        .prefetch_related("filters")
    )
    fees = []
    for charge in charges:
        billed = _already_billed(subscription, charge, lower)
        for line in charge_usage(charge, window, currency).lines:
            key = (
                line.charge_filter.pk if line.charge_filter else 0,
                tuple(sorted(line.group.items())),
            )
            cents, units = billed[key]
            if line.amount_cents <= cents:
                continue
            name = charge.invoice_display_name or charge.billable_metric.name
            fees.append(
                FeeSpec(
                    fee_type=Fee.FeeType.CHARGE,
                    amount_cents=line.amount_cents - cents,
                    precise_amount=line.result.amount,
                    units=line.units - units,
                    precise_unit_amount=line.result.unit_amount,
                    description=charge.billable_metric.name,
                    invoice_display_name=name,
                    from_datetime=lower,
                    to_datetime=upper,
                    charge=charge,
                    charge_filter=line.charge_filter,
                    grouped_by=line.group,
                    total_aggregated_units=line.aggregated_units,
                    events_count=line.events_count,
                    pay_in_advance=True,
                )
            )
    return fees


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
    fees = _delta_fees(subscription, lower, upper)
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
    invoice = _create_invoice(plan, now)
    notify(invoice, "invoice.created")
    return invoice_finalize(invoice=invoice, now=now)  # no grace period for in-advance fees
