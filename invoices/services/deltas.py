"""Fees for usage not billed yet in a period: the priced usage so far minus what earlier fees of
the same kind billed, per charge, filter and group. Shared by pay-in-advance charges and
progressive billing; idempotent by construction (a second run finds nothing left)."""

from collections import defaultdict
from datetime import datetime

from django.utils import timezone

from customers.models import Subscription
from customers.selectors import subscription_currency
from invoices.models import Fee, Invoice
from invoices.services.fees import FeeSpec
from plans.price_lists import price_list
from usage.reports import charge_usage, usage_window


def _bucket(filter_id, group: dict) -> tuple:
    return (filter_id or 0, tuple(sorted(group.items())))


def _billed(fees) -> dict:
    """(filter id, group) -> [cents, units] per charge already billed by `fees`."""
    billed: dict = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    rows = fees.exclude(invoice__status=Invoice.Status.VOIDED).values_list(
        "charge_id", "charge_filter_id", "grouped_by", "amount_cents", "units"
    )
    for charge_id, filter_id, grouped_by, cents, units in rows:
        entry = billed[charge_id][_bucket(filter_id, grouped_by)]
        entry[0] += cents
        entry[1] += units
    return billed


def unbilled_usage_fees(
    subscription: Subscription,
    lower: datetime,
    upper: datetime,
    *,
    charges,
    billed_fees,
    pay_in_advance: bool,
) -> list[FeeSpec]:
    """Usage of `charges` in [lower, upper) priced now, minus what `billed_fees` billed."""
    window = usage_window(subscription, lower, upper)  # prorated charges: days to period end
    currency = subscription_currency(subscription)
    prices = price_list(subscription.plan, currency, timezone.now().date())
    billed = _billed(billed_fees)
    fees = []
    for charge in charges.select_related("billable_metric").prefetch_related("filters"):
        for line in charge_usage(charge, window, currency, prices).lines:
            key = _bucket(line.charge_filter.pk if line.charge_filter else None, line.group)
            cents, units = billed[charge.pk][key]
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
                    pay_in_advance=pay_in_advance,
                )
            )
    return fees
