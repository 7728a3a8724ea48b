"""Reads of the catalog."""

import uuid

from django.db.models import F, Q

from core.errors import NotFound
from core.money import from_minor_units, to_minor_units
from core.validation import parse_decimal
from plans import pricing
from plans.models import (
    BillableMetric,
    Charge,
    ChargeFilter,
    Feature,
    FixedCharge,
    Plan,
    PlanEntitlement,
)


def metric_get(*, code: str) -> BillableMetric:
    metric = BillableMetric.objects.live().filter(code=code).first()
    if metric is None:
        raise NotFound("billable_metric")
    return metric


def plan_get(*, code: str, include_deleted: bool = False) -> Plan:
    """A catalog plan (not an override) by code; the newest one when deleted ones are allowed."""
    rows = Plan.objects.filter(parent__isnull=True, code=code)
    if not include_deleted:
        rows = rows.filter(deleted_at__isnull=True)
    plan = (
        rows.select_related("minimum_commitment")
        .prefetch_related("charges__billable_metric", "charges__filters", "usage_thresholds")
        .order_by(F("deleted_at").asc(nulls_first=True), "-created_at")
        .first()
    )
    if plan is None:
        raise NotFound("plan")
    return plan


def charge_price_preview(*, charge: Charge, units: str) -> dict:
    """Price `units` on a charge's default properties (admin preview; nothing is saved)."""
    value = parse_decimal(units)
    if value is None or value < 0:
        return {"error": "Enter a number of units (0 or more)."}
    currency = charge.plan.amount_currency
    result = pricing.price(
        charge.charge_model, charge.properties, pricing.UsageInput(units=value, events_count=1)
    )
    return {
        "units": format(value, "f"),
        "amount": format(result.amount, "f"),
        "billed": format(from_minor_units(to_minor_units(result.amount, currency), currency), "f"),
        "currency": currency,
        "tiers": result.tiers,
    }


def plan_charge_get(*, plan: Plan, code: str) -> Charge:
    """A live charge of `plan` by its code (Lago's `charge_code`)."""
    charge = (
        plan.charges.live()
        .filter(code=code)
        .select_related("plan", "billable_metric")
        .prefetch_related("filters")
        .first()
    )
    if charge is None:
        raise NotFound("charge")
    return charge


def charge_filter_get(*, charge: Charge, filter_id: str) -> ChargeFilter:
    """A live filter of `charge` by its lago_id."""
    try:
        lago_id = uuid.UUID(str(filter_id))
    except ValueError:
        raise NotFound("charge_filter") from None
    charge_filter = charge.filters.live().filter(lago_id=lago_id).select_related("charge").first()
    if charge_filter is None:
        raise NotFound("charge_filter")
    return charge_filter


def plan_fixed_charge_get(*, plan: Plan, code: str) -> FixedCharge:
    """A live fixed charge of `plan` by its code."""
    row = plan.fixed_charges.live().filter(code=code).select_related("add_on", "plan").first()
    if row is None:
        raise NotFound("fixed_charge")
    return row


def feature_get(*, code: str) -> Feature:
    feature = Feature.objects.prefetch_related("privileges").filter(code=code).first()
    if feature is None:
        raise NotFound("feature")
    return feature


def features_search(rows, term: str | None):
    """Lago's search_term: in name, code or description."""
    if not term:
        return rows
    return rows.filter(
        Q(name__icontains=term) | Q(code__icontains=term) | Q(description__icontains=term)
    )


def plan_entitlements(plan: Plan):
    return (
        PlanEntitlement.objects.filter(plan=plan)
        .select_related("feature")
        .prefetch_related("values__privilege")
        .order_by("created_at", "id")
    )


def plan_entitlement_get(*, plan: Plan, feature_code: str) -> PlanEntitlement:
    entitlement = plan_entitlements(plan).filter(feature__code=feature_code).first()
    if entitlement is None:
        raise NotFound("entitlement")
    return entitlement
