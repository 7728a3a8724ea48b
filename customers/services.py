"""Customer and subscription services: upsert, delete, subscribe, change plan, terminate."""

from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from core import hooks
from core.errors import NotFound, RuleViolation, ValidationFailed
from core.validation import (
    Errors,
    check_choice,
    check_code,
    check_country,
    check_currency,
    check_emails,
    check_locale,
    check_non_negative_int,
    check_timezone,
    parse_moment,
)
from customers.locks import lock_customer, lock_subscription
from customers.models import Customer, CustomerMetadata, Subscription
from customers.selectors import customer_timezone, subscription_anchor_date
from plans import periods
from plans.models import Plan
from plans.services import plan_override_create

Status = Subscription.Status

CUSTOMER_FIELDS = (
    "name",
    "firstname",
    "lastname",
    "customer_type",
    "email",
    "phone",
    "url",
    "legal_name",
    "legal_number",
    "tax_identification_number",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zipcode",
    "country",
    "currency",
    "timezone",
    "net_payment_term",
    "finalize_zero_amount_invoice",
    "shipping_address",
    "tax_codes",
)
BILLING_CONFIGURATION_FIELDS = {
    "invoice_grace_period": "invoice_grace_period",
    "document_locale": "document_locale",
    "payment_provider": "payment_provider",
    "payment_provider_code": "payment_provider_code",
    "provider_customer_id": "provider_customer_id",
    "sync_with_provider": "sync_with_provider",
}
PAYMENT_PROVIDERS = ("", "stripe")
NULLABLE_INTS = ("net_payment_term", "invoice_grace_period")


# --- customers -------------------------------------------------------------------------------


def _flatten_customer(data: dict) -> dict:
    """Lago's nested billing_configuration folded into model field names; nulls = absent."""
    flat = {key: data[key] for key in CUSTOMER_FIELDS if data.get(key) is not None}
    config = data.get("billing_configuration")
    config = config if isinstance(config, dict) else {}  # anything else: customer_upsert 422s
    for source, target in BILLING_CONFIGURATION_FIELDS.items():
        value = config.get(source)
        if value is not None:
            flat[target] = value
    for key in ("country", "currency"):
        if isinstance(flat.get(key), str):
            flat[key] = flat[key].upper()
    return flat


def _metadata_errors(metadata) -> str | None:
    if not isinstance(metadata, list):
        return "invalid_format"
    keys = [item.get("key") for item in metadata if isinstance(item, dict)]
    if len(keys) != len(metadata) or not all(isinstance(k, str) and k for k in keys):
        return "invalid_format"
    return "duplicated_key" if len(set(keys)) != len(keys) else None


def customer_errors(flat: dict, *, instance: Customer | None) -> Errors:
    """Rules of a customer's fields (after flattening)."""
    errors = Errors()
    checks = {
        "currency": check_currency,
        "timezone": check_timezone,
        "country": check_country,
        "email": check_emails,
        "document_locale": check_locale,
        "customer_type": lambda v: check_choice(v, Customer.CustomerType.values),
        "finalize_zero_amount_invoice": lambda v: check_choice(
            v, Customer.ZeroAmountInvoices.values
        ),
        "payment_provider": lambda v: check_choice(v, PAYMENT_PROVIDERS),
        "net_payment_term": check_non_negative_int,
        "invoice_grace_period": check_non_negative_int,
    }
    for field, check in checks.items():
        if flat.get(field) not in (None, ""):
            errors.add(field, check(flat[field]))
    if "shipping_address" in flat and not isinstance(flat["shipping_address"], dict):
        errors.add("shipping_address", "invalid_format")
    if "tax_codes" in flat and not isinstance(flat["tax_codes"], list):
        errors.add("tax_codes", "invalid_format")
    if (
        instance is not None
        and instance.currency
        and flat.get("currency")
        and flat["currency"] != instance.currency
        and instance.subscriptions.filter(status__in=[Status.ACTIVE, Status.PENDING]).exists()
    ):
        errors.add("currency", "currencies_does_not_match")
    return errors


def _replace_metadata(customer: Customer, metadata: list[dict]) -> None:
    customer.metadata.exclude(key__in=[item["key"] for item in metadata]).delete()
    for item in metadata:
        CustomerMetadata.objects.update_or_create(
            customer=customer,
            key=item["key"],
            defaults={
                "value": "" if item.get("value") is None else str(item["value"]),
                "display_in_invoice": bool(item.get("display_in_invoice")),
            },
        )


@transaction.atomic
def customer_upsert(*, data: dict) -> tuple[Customer, bool]:
    """Create or update the customer with data["external_id"] (Lago's POST /customers).
    Returns (customer, created)."""
    errors = Errors()
    errors.add("external_id", check_code(data.get("external_id")))
    if not isinstance(data.get("billing_configuration") or {}, dict):
        errors.add("billing_configuration", "invalid_format")
    flat = _flatten_customer(data)
    customer = (
        Customer.objects.live().select_for_update().filter(external_id=data["external_id"]).first()
        if not errors
        else None
    )
    errors.merge(customer_errors(flat, instance=customer))
    if "metadata" in data and data["metadata"] is not None:
        errors.add("metadata", _metadata_errors(data["metadata"]))
    if errors:
        raise ValidationFailed(errors)
    created = customer is None
    customer = customer or Customer(external_id=data["external_id"])
    for field, value in flat.items():
        setattr(customer, field, value)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:  # two concurrent creates of the same external id
        raise ValidationFailed({"external_id": ["value_already_exist"]}) from exc
    if data.get("metadata") is not None:
        _replace_metadata(customer, data["metadata"])
    customer_saved(customer)
    return customer, created


def customer_saved(customer: Customer) -> None:
    """Announce a saved customer: payments (a higher layer) syncs it with its provider after
    commit (payments/customer_hooks.py)."""
    hooks.run("customer.saved", customer=customer)


@transaction.atomic
def customer_delete(*, customer: Customer) -> Customer:
    """Soft delete: subscriptions are terminated or canceled; invoices stay."""
    from customers.wallets import wallet_terminate

    customer = lock_customer(customer.pk)
    for subscription in customer.subscriptions.filter(status__in=[Status.ACTIVE, Status.PENDING]):
        _close(subscription)
    for wallet in customer.wallets.filter(status="active"):
        wallet_terminate(wallet=wallet)
    customer.deleted_at = timezone.now()
    customer.save(update_fields=["deleted_at", "updated_at"])
    return customer


# --- subscriptions ---------------------------------------------------------------------------


def _started(subscription: Subscription, now: datetime | None = None) -> None:
    """Invoicing follows a start in the same transaction: it schedules billing and may bill a
    base fee in advance (the receiver lives in invoices, a higher layer)."""
    hooks.run("subscription.started", subscription=subscription, now=now)


def _terminated(subscription: Subscription, now: datetime | None = None) -> None:
    """Invoicing follows a termination in the same transaction: it bills the final invoice at
    once (the receiver lives in invoices, a higher layer)."""
    hooks.run("subscription.terminated", subscription=subscription, now=now)


def _close(subscription: Subscription) -> None:
    if subscription.status == Status.ACTIVE:
        subscription_terminate(subscription=subscription)
    elif subscription.status == Status.PENDING:
        subscription_cancel(subscription=subscription)


@transaction.atomic
def subscription_close(*, subscription_id: int) -> None:
    """Terminate (billing it) or cancel one subscription of a plan being deleted. Under its
    lock, so a job item run twice, even at the same time, closes and bills it once."""
    _close(lock_subscription(subscription_id))


def subscriptions_close_for_plan(*, plan: Plan) -> None:
    """Terminate or cancel every live subscription on a plan (or its overrides) being deleted."""
    rows = Subscription.objects.filter(
        plan__in=[plan, *plan.overrides.all()], status__in=[Status.ACTIVE, Status.PENDING]
    )
    for subscription in rows:
        _close(subscription)


def _parse_when(value, field: str, errors: Errors) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    parsed = parse_moment(value)
    if parsed is None:
        errors.add(field, "invalid_format")
        return None
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)


def yearly_amount_cents(plan: Plan) -> int:
    """Base fee normalised per year; a plan change to an equal or higher one is an upgrade."""
    return plan.amount_cents * periods.yearly_amount_factor(plan.interval)


def _check_currency(customer: Customer, plan: Plan) -> None:
    """The plan must have a price in the customer's currency, or an FX rate to convert it."""
    from core.fx import fx_rate_or_none
    from plans.price_lists import plan_has_price

    currency = customer.currency
    if not currency or plan_has_price(plan, currency):
        return
    if fx_rate_or_none(base=plan.amount_currency, quote=currency, on=timezone.now().date()):
        return
    raise ValidationFailed({"currency": ["currencies_does_not_match"]})


def _ending_at_error(ending_at: datetime, starts: datetime, now: datetime) -> str | None:
    """Lago's rule: an end date must fall on a later (UTC) day than today and than the start.

    An end in the past would terminate inside periods that may be invoiced already; refusing it
    (rather than back-dating the termination) is what Lago does, and the termination then bills
    only time and usage no invoice covers yet (invoices.services.fees)."""
    day = ending_at.astimezone(UTC).date()
    if day <= now.astimezone(UTC).date() or day <= starts.astimezone(UTC).date():
        return "invalid_date"
    return None


def _termination_options(data: dict, errors: Errors) -> dict:
    """on_termination_credit_note / on_termination_invoice as given (Lago's values)."""
    options = {}
    choices = {
        "on_termination_credit_note": Subscription.OnTerminationCreditNote.values,
        "on_termination_invoice": Subscription.OnTerminationInvoice.values,
    }
    for field, values in choices.items():
        value = data.get(field)
        if value in (None, ""):
            continue
        if value not in values:
            errors.add(field, "invalid_value")
        else:
            options[field] = value
    return options


def _apply_termination_options(subscription: Subscription, options: dict) -> list[str]:
    """Store the options; the credit-note choice only means something for a base fee paid in
    advance, so Lago keeps it empty on plans in arrears."""
    fields = []
    for field, value in options.items():
        if field == "on_termination_credit_note" and not subscription.plan.pay_in_advance:
            continue
        setattr(subscription, field, value)
        fields.append(field)
    return fields


def _subscription_errors(data: dict) -> Errors:
    errors = Errors()
    errors.add("external_customer_id", check_code(data.get("external_customer_id")))
    errors.add("external_id", check_code(data.get("external_id")))
    if not data.get("plan_code"):
        errors.add("plan_code", "value_is_mandatory")
    billing_time = data.get("billing_time") or Subscription.BillingTime.CALENDAR
    errors.add("billing_time", check_choice(billing_time, Subscription.BillingTime.values))
    return errors


@transaction.atomic
def subscription_create(*, data: dict, now: datetime | None = None) -> Subscription:
    """Lago's POST /subscriptions: a new subscription, or a plan change when an active one
    already has this external_id. The same plan again returns the existing row (a retry)."""
    now = now or timezone.now()
    errors = _subscription_errors(data)
    subscription_at = _parse_when(data.get("subscription_at"), "subscription_at", errors)
    ending_at = _parse_when(data.get("ending_at"), "ending_at", errors)
    if ending_at:
        errors.add("ending_at", _ending_at_error(ending_at, subscription_at or now, now))
    options = _termination_options(data, errors)
    if errors:
        raise ValidationFailed(errors)
    plan = Plan.objects.live().filter(parent__isnull=True, code=data["plan_code"]).first()
    if plan is None:
        raise NotFound("plan")
    if plan.pending_deletion:  # its deletion job is terminating its subscriptions
        raise ValidationFailed({"plan_code": ["plan_pending_deletion"]})
    customer, _ = customer_upsert(data={"external_id": data["external_customer_id"]})
    customer = lock_customer(customer.pk)
    current = (
        Subscription.objects.select_for_update()
        .filter(external_id=data["external_id"], status=Status.ACTIVE)
        .select_related("plan", "customer")
        .first()
    )
    if current is not None:
        if current.customer_id != customer.pk:
            raise ValidationFailed({"external_id": ["value_already_exist"]})
        if current.plan.catalog_plan.pk == plan.pk and not data.get("plan_overrides"):
            return current
        return _change_plan(current, plan, data, now)
    subscription_at = subscription_at or now
    effective_plan = _effective_plan(plan, data.get("plan_overrides"))
    _check_currency(customer, effective_plan)
    _replace_pending(data["external_id"])
    subscription = Subscription(
        external_id=data["external_id"],
        customer=customer,
        plan=effective_plan,
        name=data.get("name") or "",
        billing_time=data.get("billing_time") or Subscription.BillingTime.CALENDAR,
        subscription_at=subscription_at,
        ending_at=ending_at,
    )
    _apply_termination_options(subscription, options)
    if subscription_at <= now:
        subscription.status, subscription.started_at = Status.ACTIVE, subscription_at
    _save_subscription(subscription)
    _adopt_currency(customer, effective_plan)
    if subscription.status == Status.ACTIVE:
        _started(subscription, now)
    return subscription


def _effective_plan(plan: Plan, overrides: dict | None) -> Plan:
    if not overrides:
        return plan
    return plan_override_create(parent=plan, overrides=overrides)


def _replace_pending(external_id: str) -> None:
    """A new request for an external id supersedes a pending one (Lago keeps one change)."""
    for pending in Subscription.objects.select_for_update().filter(
        external_id=external_id, status=Status.PENDING
    ):
        subscription_cancel(subscription=pending)


def _save_subscription(subscription: Subscription) -> None:
    try:
        with transaction.atomic():
            subscription.save()
    except IntegrityError as exc:  # a concurrent request created the same external id
        raise ValidationFailed({"external_id": ["value_already_exist"]}) from exc


def _adopt_currency(customer: Customer, plan: Plan) -> None:
    if not customer.currency:
        customer.currency = plan.amount_currency
        customer.save(update_fields=["currency", "updated_at"])


def _change_plan(current: Subscription, plan: Plan, data: dict, now: datetime) -> Subscription:
    """Upgrade at once (old terminated, new active); downgrade waits for the period's end."""
    new_plan = _effective_plan(plan, data.get("plan_overrides"))
    _check_currency(current.customer, new_plan)
    _replace_pending(current.external_id)
    successor = Subscription(
        external_id=current.external_id,
        customer=current.customer,
        plan=new_plan,
        name=data.get("name") or current.name,
        billing_time=current.billing_time,
        subscription_at=current.subscription_at,  # keeps the billing anchor
        ending_at=current.ending_at,
        previous_subscription=current,
    )
    upgrade = yearly_amount_cents(new_plan) >= yearly_amount_cents(current.plan)
    if upgrade:
        current.status, current.terminated_at = Status.TERMINATED, now
        current.save(update_fields=["status", "terminated_at", "updated_at"])
        successor.status, successor.started_at = Status.ACTIVE, now
        successor.trial_ended_at = now  # the trial is not applied again after a plan change
    _save_subscription(successor)
    if upgrade:
        _terminated(current, now)
        _started(successor, now)
    return successor


def downgrade_date(subscription: Subscription) -> datetime | None:
    """When a pending downgrade starts: the end of the predecessor's period in which the
    downgrade was requested (UTC)."""
    previous = subscription.previous_subscription
    if subscription.status != Status.PENDING or previous is None:
        return None
    if previous.status != Status.ACTIVE:
        return None
    tz = customer_timezone(previous.customer)
    requested = periods.local_date(subscription.created_at, tz)  # fixed when it was asked
    day = max(requested, subscription_anchor_date(previous, tz))
    period = periods.period_containing(
        interval=previous.plan.interval,
        billing_time=previous.billing_time,
        anchor=subscription_anchor_date(previous, tz),
        day=day,
    )
    return periods.local_bounds_utc(period, tz)[1]


@transaction.atomic
def subscription_update(*, subscription: Subscription, data: dict) -> Subscription:
    """Lago's PUT /subscriptions/{id}: name, ending_at, subscription_at (pending only),
    plan_overrides (a new hidden child plan)."""
    subscription = lock_subscription(subscription.pk)
    errors = Errors()
    ending_at = _parse_when(data.get("ending_at"), "ending_at", errors)
    subscription_at = _parse_when(data.get("subscription_at"), "subscription_at", errors)
    if subscription_at and subscription.status != Status.PENDING:
        errors.add("subscription_at", "only_pending_subscriptions")
    if ending_at:
        starts = subscription_at or subscription.subscription_at
        errors.add("ending_at", _ending_at_error(ending_at, starts, timezone.now()))
    options = _termination_options(data, errors)
    if errors:
        raise ValidationFailed(errors)
    _apply_termination_options(subscription, options)
    if data.get("name") is not None:
        subscription.name = data["name"]
    if ending_at is not None:
        subscription.ending_at = ending_at
    if subscription_at is not None:
        subscription.subscription_at = subscription_at
    if data.get("plan_overrides"):
        subscription.plan = plan_override_create(
            parent=subscription.plan.catalog_plan, overrides=data["plan_overrides"]
        )
        _check_currency(subscription.customer, subscription.plan)
    subscription.save()
    return subscription


@transaction.atomic
def subscription_terminate(
    *, subscription: Subscription, now: datetime | None = None, options: dict | None = None
) -> Subscription:
    """Terminate an active subscription now; its pending successor (a downgrade) is canceled.
    `options` are Lago's on_termination_credit_note / on_termination_invoice for this
    termination (stored on the row, as Lago does). Terminating twice is a no-op."""
    errors = Errors()
    options = _termination_options(options or {}, errors)
    if errors:
        raise ValidationFailed(errors)
    subscription = lock_subscription(subscription.pk)
    if subscription.status == Status.TERMINATED:
        return subscription
    if subscription.status != Status.ACTIVE:
        raise RuleViolation("not_active", "Only an active subscription can be terminated.")
    subscription.status = Status.TERMINATED
    subscription.terminated_at = now or timezone.now()
    fields = _apply_termination_options(subscription, options)
    subscription.save(update_fields=["status", "terminated_at", "updated_at", *fields])
    for pending in subscription.next_subscriptions.filter(status=Status.PENDING):
        subscription_cancel(subscription=pending)
    _terminated(subscription, now)
    return subscription


@transaction.atomic
def subscription_cancel(*, subscription: Subscription) -> Subscription:
    """Cancel a pending subscription (it never started)."""
    subscription = lock_subscription(subscription.pk)
    if subscription.status == Status.CANCELED:
        return subscription
    if subscription.status != Status.PENDING:
        raise RuleViolation("not_pending", "Only a pending subscription can be canceled.")
    subscription.status, subscription.canceled_at = Status.CANCELED, timezone.now()
    subscription.save(update_fields=["status", "canceled_at", "updated_at"])
    return subscription


def activation_time(subscription: Subscription) -> datetime | None:
    """When a pending subscription starts: its subscription_at, or for a downgrade the end of
    the period of the plan it replaces."""
    if subscription.previous_subscription_id:
        return downgrade_date(subscription)
    return subscription.subscription_at


@transaction.atomic
def subscription_activate(*, subscription: Subscription, now: datetime) -> Subscription:
    """Start a pending subscription whose time has come, dated at that time (not the time the
    beat task ran), terminating the subscription it replaces at the same instant."""
    subscription = lock_subscription(subscription.pk)
    start = activation_time(subscription) if subscription.status == Status.PENDING else None
    if start is None or start > now:
        return subscription
    previous = subscription.previous_subscription
    if previous is not None and previous.status == Status.ACTIVE:
        previous = lock_subscription(previous.pk)
        previous.status, previous.terminated_at = Status.TERMINATED, start
        previous.save(update_fields=["status", "terminated_at", "updated_at"])
        _terminated(previous, now)
    subscription.status, subscription.started_at = Status.ACTIVE, start
    subscription.save(update_fields=["status", "started_at", "updated_at"])
    _started(subscription, now)
    return subscription


def subscriptions_due_for_activation(now: datetime) -> list[int]:
    """Pending subscriptions to start now: future starts reached, downgrades at period end."""
    pending = Subscription.objects.filter(status=Status.PENDING).select_related(
        "previous_subscription__plan", "previous_subscription__customer"
    )
    return [s.pk for s in pending if (start := activation_time(s)) is not None and start <= now]


def subscriptions_terminate_ended(now: datetime) -> int:
    """Terminate active subscriptions whose ending_at has passed."""
    ended = Subscription.objects.filter(status=Status.ACTIVE, ending_at__lte=now)
    count = 0
    for subscription in ended:
        subscription_terminate(subscription=subscription, now=subscription.ending_at)
        count += 1
    return count
