"""estimate_fees: what one hypothetical event would add on pay-in-advance charges (no writes).

Like Lago, the fee of an in-advance event is the difference between the price of the period's
units with and without it."""

import uuid
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

from django.conf import settings
from django.utils import timezone

from core.api.formats import decimal_number, decimal_str
from core.errors import NotFound, ValidationFailed
from core.money import precise_minor_units, round_places, to_minor_units
from core.validation import parse_decimal
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


# --- estimate_instant_fees: Lago's instant estimate, the event priced on its own -----------

INSTANT_MODELS = ("standard", "percentage")


def estimate_instant_fees(*, raw: dict) -> list[dict]:
    """Lago's POST /events/estimate_instant_fees: the fee of each pay-in-advance standard or
    percentage charge of the event's metric, for this event alone (not the period's usage
    with and without it, as estimate_fees does). Nothing is stored."""
    subscription = _active_subscription(raw.get("external_subscription_id"))
    charges = _instant_charges(subscription)
    matched = [c for c in charges if c.billable_metric.code == raw.get("code")]
    if not matched:
        raise ValidationFailed({"code": ["does_not_match_an_instant_charge"]})
    return [_instant_fee(subscription, charge, raw) for charge in matched]


def estimate_instant_fees_batch(*, raws: list) -> list[dict]:
    """The batch form: events grouped by subscription (Lago's order), fees of each event."""
    if not isinstance(raws, list) or not all(isinstance(raw, dict) for raw in raws):
        raise ValidationFailed({"events": ["invalid_format"]})
    if not all(isinstance(raw.get("external_subscription_id"), str) for raw in raws):
        raise ValidationFailed({"external_subscription_id": ["invalid_format"]})
    fees: list[dict] = []
    by_subscription: dict = {}
    for raw in raws:
        by_subscription.setdefault(raw.get("external_subscription_id"), []).append(raw)
    for external_id, events in by_subscription.items():
        subscription = _active_subscription(external_id)
        charges = _instant_charges(subscription)
        if not charges:
            raise ValidationFailed({"code": ["does_not_match_an_instant_charge"]})
        for raw in events:
            matched = [c for c in charges if c.billable_metric.code == raw.get("code")]
            fees += [_instant_fee(subscription, charge, raw) for charge in matched]
    return fees


def _active_subscription(external_id) -> Subscription:
    subscription = (
        Subscription.objects.filter(external_id=external_id, status=Subscription.Status.ACTIVE)
        .select_related("plan", "customer")
        .first()
        if isinstance(external_id, str)
        else None
    )
    if subscription is None:
        raise NotFound("subscription")
    return subscription


def _instant_charges(subscription: Subscription) -> list[Charge]:
    return list(
        subscription.plan.charges.live()
        .filter(pay_in_advance=True, charge_model__in=INSTANT_MODELS)
        .select_related("billable_metric")
        .prefetch_related("filters")
        .order_by("pk")
    )


def _instant_units(charge: Charge, properties: dict) -> Decimal:
    """The event's value of the metric's field; one unit when the metric has no field."""
    field = charge.billable_metric.field_name
    if not field:
        return Decimal(1)
    value = properties.get(field, 0)  # Lago: a missing value is no unit
    units = parse_decimal(value if not isinstance(value, float) else repr(value))
    if units is None or isinstance(value, bool):
        raise ValidationFailed({f"properties.{field}": ["value_is_invalid"]})
    return units


def _instant_amount(model: str, properties: dict, units: Decimal) -> Decimal:
    """Lago's Charges::EstimateInstant services: units * amount, or the percentage of the
    units plus the fixed amount, within the per-transaction bounds. Negative units: 0."""
    if units < 0:
        return Decimal(0)
    if model == "standard":
        return units * Decimal(str(properties.get("amount") or 0))
    amount = units * Decimal(str(properties.get("rate") or 0)) / 100
    amount += Decimal(str(properties.get("fixed_amount") or 0))
    low, high = (
        properties.get(key) for key in ("per_transaction_min_amount", "per_transaction_max_amount")
    )
    if low not in (None, ""):
        amount = max(amount, Decimal(str(low)))
    if high not in (None, ""):
        amount = min(amount, Decimal(str(high)))
    return amount


def _instant_fee(subscription: Subscription, charge: Charge, raw: dict) -> dict:
    """One FeeEstimateObject, as Lago's Fees::EstimateInstant::BaseService builds it."""
    event_properties = raw.get("properties") if isinstance(raw.get("properties"), dict) else {}
    currency = subscription_currency(subscription)
    prices = price_list(subscription.plan, currency, timezone.now().date())
    filters = [f for f in charge.filters.all() if f.deleted_at is None]
    charge_filter = matching_filter(event_properties, filters)
    properties = charge_filter.properties if charge_filter else prices.properties(charge)
    units = _instant_units(charge, event_properties)
    amount = prices.convert(charge, _instant_amount(charge.charge_model, properties, units))
    cents = to_minor_units(amount, currency)
    unit_cents = Decimal(0) if cents == 0 or units == 0 else Decimal(cents) / units
    metric, customer = charge.billable_metric, subscription.customer
    return {
        "lago_id": None,
        "lago_charge_id": str(charge.lago_id),
        "lago_charge_filter_id": str(charge_filter.lago_id) if charge_filter else None,
        "lago_invoice_id": None,
        "lago_true_up_fee_id": None,
        "lago_true_up_parent_fee_id": None,
        "lago_subscription_id": str(subscription.lago_id),
        "external_subscription_id": subscription.external_id,
        "lago_customer_id": str(customer.lago_id),
        "external_customer_id": customer.external_id,
        "item": {
            "type": "charge",
            "code": metric.code,
            "name": metric.name,
            "description": metric.description,
            "invoice_display_name": charge.invoice_display_name or metric.name,
            "filters": charge_filter.values if charge_filter else None,
            "filter_invoice_display_name": (
                charge_filter.invoice_display_name or None if charge_filter else None
            ),
            "lago_item_id": str(metric.lago_id),
            "item_type": "BillableMetric",
            "grouped_by": {},
        },
        "pay_in_advance": True,
        "invoiceable": charge.invoiceable,
        "amount_cents": cents,
        "amount_currency": currency,
        "precise_amount": decimal_number(amount),
        "precise_total_amount": decimal_number(amount),
        "taxes_amount_cents": 0,
        "taxes_precise_amount": decimal_number(0),
        "taxes_rate": 0,
        "total_amount_cents": cents,
        "total_amount_currency": currency,
        "units": decimal_str(units),
        "description": None,
        "precise_unit_amount": decimal_number(unit_cents),
        "precise_coupons_amount_cents": "0.0",
        "events_count": 1,
        "payment_status": "pending",
        "created_at": None,
        "succeeded_at": None,
        "failed_at": None,
        "refunded_at": None,
        "amount_details": None,
        "event_transaction_id": raw.get("transaction_id") or str(uuid.uuid4()),
    }
