"""Fees for usage not billed yet in a period: the priced usage so far minus what earlier fees of
the same kind billed, per charge, filter and group. Shared by pay-in-advance charges and
progressive billing; idempotent by construction (a second run finds nothing left). Callers hold
the subscription's row lock, so two runs never compute the same delta at once."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from django.utils import timezone

from customers.models import Subscription
from customers.selectors import subscription_currency
from invoices.models import Fee, Invoice
from invoices.services.fees import FeeSpec
from plans.price_lists import price_list
from usage.reports import charge_usage, usage_window


def _bucket(filter_values: dict | None, group: dict) -> tuple:
    """A filter by its values, not its row: a subscription moved to its override plan (a copy
    of the charge and its filters, `Charge.parent`) mid-period keeps what it was billed."""
    values = tuple(sorted((k, tuple(sorted(v))) for k, v in (filter_values or {}).items()))
    return (values, tuple(sorted(group.items())))


def _billed(fees) -> dict:
    """(filter values, group) -> [cents, units, precise amount] per catalog charge (the charge,
    or the one an override copies) billed by `fees`."""
    billed: dict = defaultdict(lambda: defaultdict(lambda: [0, 0, Decimal(0)]))
    rows = fees.exclude(invoice__status__in=Invoice.NOT_BILLED).values_list(
        "charge_id",
        "charge__parent_id",
        "charge_filter__values",
        "grouped_by",
        "amount_cents",
        "units",
        "precise_amount",
    )
    for charge_id, parent_id, filter_values, grouped_by, cents, units, precise in rows:
        entry = billed[parent_id or charge_id][_bucket(filter_values, grouped_by)]
        entry[0] += cents
        entry[1] += units
        entry[2] += precise
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
            key = _bucket(line.charge_filter.values if line.charge_filter else None, line.group)
            cents, units, precise = billed[charge.parent_id or charge.pk][key]
            if line.amount_cents <= cents:
                continue
            name = charge.invoice_display_name or charge.billable_metric.name
            fees.append(
                FeeSpec(
                    fee_type=Fee.FeeType.CHARGE,
                    amount_cents=line.amount_cents - cents,
                    precise_amount=line.result.amount - precise,
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


def in_advance_fees(subscription: Subscription, lower: datetime, upper: datetime):
    """The in-advance charge fees billed for usage of [lower, upper), on whatever invoice (an
    in-advance invoice, or the period or termination invoice that swept them)."""
    return Fee.objects.filter(
        subscription=subscription,
        fee_type=Fee.FeeType.CHARGE,
        pay_in_advance=True,
        from_datetime__gte=lower,
        from_datetime__lt=upper,
    )


def unbilled_in_advance_fees(
    subscription: Subscription, lower: datetime, upper: datetime
) -> list[FeeSpec]:
    """In-advance usage of [lower, upper) that no invoice carries yet, as in-advance fees: what
    an in-advance run bills as usage arrives, and what the period close sweeps (a run that
    was lost, late past the period's end, or not due yet)."""
    upper = min(upper, subscription.terminated_at or upper)
    return unbilled_usage_fees(
        subscription,
        lower,
        max(lower, upper),
        charges=subscription.plan.charges.live().filter(pay_in_advance=True, invoiceable=True),
        billed_fees=in_advance_fees(subscription, lower, upper),
        pay_in_advance=True,
    )
