"""estimate_fees: what one hypothetical event would add on pay-in-advance charges (no writes).

Like Lago, the fee of an in-advance event is the difference between the price of the period's
units with and without it."""

from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.utils import timezone

from core.errors import NotFound, ValidationFailed
from core.money import precise_minor_units, round_places, to_minor_units
from customers.models import Subscription
from customers.selectors import subscription_currency
from plans import aggregation_types, pricing
from plans.models import Charge, ChargeFilter
from plans.price_lists import price_list
from usage.aggregation import ALL_FILTER_VALUES, Window, ordered_filters, prorates
from usage.parsing import parse_event
from usage.reports import charge_usage, charges_period_bounds, usage_window
from usage.services.ingest import event_value_extract


def matching_filter(properties: dict, filters: list[ChargeFilter]) -> ChargeFilter | None:
    """The filter an event belongs to: the first match in most-specific-first order."""
    for charge_filter in ordered_filters(filters):
        if all(
            key in properties and (ALL_FILTER_VALUES in values or str(properties[key]) in values)
            for key, values in charge_filter.values.items()
        ):
            return charge_filter
    return None


def _increment(charge: Charge, value) -> object:
    """One unit for a count or a unique count; the event's value for a numeric aggregation."""
    aggregation = charge.billable_metric.aggregation_type
    if aggregation in aggregation_types.KEYS and aggregation not in aggregation_types.NUMERIC:
        return 1
    return value or 0


def estimate_fees(*, raw: dict) -> list[dict]:
    """Fees the event would create, in Lago's FeeResponse shape."""
    now = timezone.now()
    max_future = timedelta(seconds=settings.EVENTS_MAX_FUTURE_SECONDS)
    event = parse_event(raw, now=now, max_future=max_future, idempotency_key="estimate")
    if isinstance(event, dict):
        raise ValidationFailed(event)
    subscription = (
        Subscription.objects.filter(
            external_id=event.external_subscription_id, status=Subscription.Status.ACTIVE
        )
        .select_related("plan", "customer")
        .first()
    )
    if subscription is None:
        raise NotFound("subscription")
    charges = (
        subscription.plan.charges.live()
        .filter(pay_in_advance=True, billable_metric__code=event.code)
        .select_related("billable_metric")
        .prefetch_related("filters")
    )
    currency = subscription_currency(subscription)
    prices = price_list(subscription.plan, currency, timezone.now().date())
    lower, upper = charges_period_bounds(subscription, event.timestamp)
    window = usage_window(subscription, lower, upper)
    return [_estimate(charge, event, window, currency, prices) for charge in charges]


def _estimate(charge: Charge, event, window: Window, currency: str, prices) -> dict:
    value, errors = event_value_extract(event, charge.billable_metric)
    if errors:
        raise ValidationFailed(errors)
    filters = [f for f in charge.filters.all() if f.deleted_at is None]
    charge_filter = matching_filter(event.properties, filters)
    properties = charge_filter.properties if charge_filter else prices.properties(charge)
    usage = charge_usage(charge, window, currency, prices)
    line = next(
        (
            line
            for line in usage.lines
            if (line.charge_filter.pk if line.charge_filter else 0)
            == (charge_filter.pk if charge_filter else 0)
        ),
        None,
    )
    before_units = line.units if line else 0
    before_events = line.events_count if line else 0
    increment = _increment(charge, value)
    before = pricing.price(
        charge.charge_model,
        properties,
        pricing.UsageInput(units=before_units, events_count=before_events),
    )
    after = pricing.price(
        charge.charge_model,
        properties,
        pricing.UsageInput(units=before_units + increment, events_count=before_events + 1),
    )
    amount = prices.convert(charge, after.amount - before.amount)
    if prorates(charge):  # Lago: the new units for the days left in the period
        share = Fraction(window.days_left(event.timestamp), window.proration.period_days)
        amount = amount * share.numerator / share.denominator
    return _fee_json(charge, charge_filter, window, currency, amount, increment)


def _fee_json(charge, charge_filter, window, currency: str, amount, increment) -> dict:
    """Lago's FeeResponse of the unsaved fee: no taxes applied, payment pending."""
    amount_cents = to_minor_units(amount, currency)
    unit_amount = Decimal(amount) / Decimal(increment) if increment else Decimal(0)
    return {
        "lago_id": None,
        "lago_charge_id": str(charge.lago_id),
        "lago_charge_filter_id": str(charge_filter.lago_id) if charge_filter else None,
        "external_subscription_id": window.external_subscription_id,
        "amount_cents": amount_cents,
        "amount_currency": currency,
        "precise_amount": format(amount, "f"),
        "precise_unit_amount": format(round_places(unit_amount, 15).normalize(), "f"),
        "units": str(increment),
        "total_aggregated_units": str(increment),
        "events_count": 1,
        "pay_in_advance": True,
        "invoiceable": charge.invoiceable,
        "taxes_amount_cents": 0,
        "taxes_rate": 0.0,
        "total_amount_cents": amount_cents,
        "total_amount_currency": currency,
        "sub_total_excluding_taxes_amount_cents": amount_cents,
        "sub_total_excluding_taxes_precise_amount_cents": format(
            precise_minor_units(amount, currency), "f"
        ),
        "payment_status": "pending",
        "item": {
            "type": "charge",
            "code": charge.billable_metric.code,
            "name": charge.billable_metric.name,
            # Lago's Fee#invoice_name: the charge's display name, else the metric's name
            "invoice_display_name": charge.invoice_display_name or charge.billable_metric.name,
            "lago_item_id": str(charge.billable_metric.lago_id),  # Lago's Fee#item_id
            "item_type": "BillableMetric",
        },
    }
