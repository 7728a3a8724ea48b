"""One subscription's charges and their overrides (Lago's /subscriptions/{external_id}/charges…).

The model is Lago's: a subscription whose prices differ from its plan's runs on a hidden child
plan (`Plan.parent`, `Charge.parent`), a full copy of the catalog plan made once
(`plans.services.charges.plan_override_copy`: charges, filters, commitment, thresholds, prices
in other currencies) the first time one of its charges is overridden; later overrides change
that copy in place. Invoices bill `subscription.plan`, so the override applies to everything
the subscription bills from then on; other subscriptions of the plan are untouched.
A subscription created with `plan_overrides` already has its child plan and uses it here.
"""

from django.db import transaction

from core.errors import NotFound, ValidationFailed
from core.validation import Errors, parse_decimal
from customers.locks import lock_subscription
from customers.models import Subscription, SubscriptionFixedChargeUnits
from customers.selectors import subscription_fixed_charges
from plans.models import Charge, ChargeFilter
from plans.selectors import charge_filter_get, plan_charge_get, plan_fixed_charge_get
from plans.services.charges import (
    charge_filter_create,
    charge_filter_delete,
    charge_filter_update,
    charge_override_update,
    filter_as_data,
    filter_with_values,
    plan_override_copy,
)
from plans.services.fixed_charges import MAX_UNITS


def subscription_charge_get(*, subscription: Subscription, code: str) -> Charge:
    """The charge the subscription is billed with, by code (its override when it has one)."""
    return plan_charge_get(plan=subscription.plan, code=code)


def _overridden(subscription: Subscription) -> Subscription:
    """The subscription, locked, on its own child plan (made now if it has none)."""
    subscription = lock_subscription(subscription.pk)
    if subscription.plan.parent_id is None:
        subscription.plan = plan_override_copy(parent=subscription.plan)
        subscription.save(update_fields=["plan", "updated_at"])
    return subscription


@transaction.atomic
def subscription_charge_override(*, subscription: Subscription, code: str, data: dict) -> Charge:
    """Lago's PUT /subscriptions/{id}/charges/{code}: change invoice_display_name,
    min_amount_cents, properties, filters or tax_codes of the charge for this subscription
    only. A refused body leaves the subscription on the plan it had."""
    subscription_charge_get(subscription=subscription, code=code)  # 404 first
    subscription = _overridden(subscription)
    charge = subscription_charge_get(subscription=subscription, code=code)
    return charge_override_update(charge=charge, data=data)


@transaction.atomic
def subscription_charge_filter_create(
    *, subscription: Subscription, code: str, data: dict
) -> ChargeFilter:
    subscription_charge_get(subscription=subscription, code=code)
    subscription = _overridden(subscription)
    charge = subscription_charge_get(subscription=subscription, code=code)
    return charge_filter_create(charge=charge, data=data)


def _own_filter(
    subscription: Subscription, code: str, filter_id: str
) -> tuple[ChargeFilter, Charge, ChargeFilter | None]:
    """The filter `filter_id` names (on the charge the subscription is billed with, as Lago
    finds it) matched by its values on the subscription's own copy of the charge."""
    charge = subscription_charge_get(subscription=subscription, code=code)
    named = charge_filter_get(charge=charge, filter_id=filter_id)
    subscription = _overridden(subscription)
    own = subscription_charge_get(subscription=subscription, code=code)
    return named, own, filter_with_values(own, named.values)


@transaction.atomic
def subscription_charge_filter_update(
    *, subscription: Subscription, code: str, filter_id: str, data: dict
) -> ChargeFilter:
    """Change a filter for this subscription only (recreated from the named one if the
    subscription's copy no longer has it)."""
    named, own, row = _own_filter(subscription, code, filter_id)
    if row is None:
        row = charge_filter_create(charge=own, data=filter_as_data(named))
    return charge_filter_update(charge_filter=row, data=data)


@transaction.atomic
def subscription_charge_filter_delete(
    *, subscription: Subscription, code: str, filter_id: str
) -> ChargeFilter:
    _named, _own, row = _own_filter(subscription, code, filter_id)
    if row is None:
        raise NotFound("charge_filter")
    return charge_filter_delete(charge_filter=row)


# --- fixed charges: the subscription's own units ------------------------------------------------

OVERRIDE_FIELDS_NOT_SUPPORTED = ("invoice_display_name", "properties", "tax_codes")


def subscription_fixed_charge_get(*, subscription: Subscription, code: str):
    """(fixed charge, effective units) of the subscription by the fixed charge's code."""
    for row, units in subscription_fixed_charges(subscription):
        if row.code == code:
            return row, units
    raise NotFound("fixed_charge")


@transaction.atomic
def subscription_fixed_charge_units_set(*, subscription: Subscription, code: str, data: dict):
    """Lago's PUT /subscriptions/{id}/fixed_charges/{code} with `units`: this subscription's
    own units of that fixed charge (the plan is untouched). Billed in arrears, they apply to
    the whole period billed next. Overriding the price or name per subscription is not
    supported here (422 `not_supported`)."""
    subscription = lock_subscription(subscription.pk)
    row = plan_fixed_charge_get(plan=subscription.plan, code=code)
    errors = Errors()
    units = parse_decimal(data.get("units"))
    if units is None or units < 0 or units >= MAX_UNITS:
        errors.add("units", "value_is_invalid")
    for field in OVERRIDE_FIELDS_NOT_SUPPORTED:
        if data.get(field) is not None:
            errors.add(field, "not_supported")
    if data.get("apply_units_immediately") is True and row.pay_in_advance:
        errors.add("apply_units_immediately", "not_supported")  # no mid-period fee here
    if errors:
        raise ValidationFailed(errors)
    target = row.parent if row.parent_id else row
    SubscriptionFixedChargeUnits.objects.filter(
        subscription=subscription, fixed_charge__in=[row.pk, target.pk]
    ).exclude(fixed_charge=target).delete()
    SubscriptionFixedChargeUnits.objects.update_or_create(
        subscription=subscription, fixed_charge=target, defaults={"units": units}
    )
    return subscription_fixed_charge_get(subscription=subscription, code=code)
