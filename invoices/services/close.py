"""Period close: turn a subscription's due billings into invoices, exactly once.

`Subscription.next_billing_at` says when the next billing is due. Billing one boundary is one
transaction: lock the subscription, compute the fee lines, write the invoice, its fees and the
InvoiceSubscription row — whose unique (subscription, boundary) constraint is the guarantee that
a beat firing twice, two workers, or a retry after a crash never make a second invoice — and move
next_billing_at forward. With no grace period the invoice is finalized in the same transaction.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import BillingError
from core.limits import amount_fits, number_fits
from core.selectors import organization_get
from customers.locks import lock_subscription
from customers.models import Subscription
from customers.selectors import subscription_currency
from customers.services import subscription_terminate
from invoices.models import Fee, Invoice, InvoiceSubscription
from invoices.schedule import Schedule
from invoices.services.fees import BillingPlan, bills_at_start, next_boundary, plan_for
from invoices.services.lifecycle import invoice_finalize, invoice_totals, notify
from invoices.services.termination import termination_credit_notes

Reason = InvoiceSubscription.Reason
Status = Subscription.Status


class AlreadyBilled(Exception):
    """This (subscription, boundary) has its invoice already."""


class BillingOutOfRange(BillingError):
    """A fee or the total of this billing does not fit the columns (core/limits.py): usually
    events stored before the range checks, or a sum of very many large legal values."""


def _check_range(plan: BillingPlan) -> None:
    """Refuse the billing before any row is written, the same on PostgreSQL and SQLite."""
    for fee in plan.fees:
        fits = (
            amount_fits(fee.amount_cents)
            and number_fits(fee.units)
            and number_fits(fee.total_aggregated_units)
            and number_fits(fee.precise_amount, scale=15)
            and number_fits(fee.precise_unit_amount, scale=15)
        )
        if not fits:
            name = fee.invoice_display_name or fee.description or fee.fee_type
            raise BillingOutOfRange(
                f"fee {name!r}: {fee.units} units, {fee.amount_cents} minor units"
            )
    if not amount_fits(plan.amount_cents):
        raise BillingOutOfRange(f"invoice total: {plan.amount_cents} minor units")


def _grace_days(subscription: Subscription) -> int:
    days = subscription.customer.invoice_grace_period
    return organization_get().invoice_grace_period if days is None else days


def _save_fees(invoice: Invoice, plan: BillingPlan) -> None:
    saved: dict[int, Fee] = {}
    for spec in plan.fees:
        fee = Fee.objects.create(
            invoice=invoice,
            subscription=plan.subscription,
            charge=spec.charge,
            charge_filter=spec.charge_filter,
            fixed_charge=spec.fixed_charge,
            fee_type=spec.fee_type,
            description=spec.description[:255],
            invoice_display_name=spec.invoice_display_name[:255],
            grouped_by=spec.grouped_by,
            units=spec.units,
            total_aggregated_units=spec.total_aggregated_units,
            events_count=spec.events_count,
            precise_unit_amount=spec.precise_unit_amount,
            precise_amount=spec.precise_amount,
            amount_cents=spec.amount_cents,
            amount_currency=invoice.currency,
            amount_details=spec.amount_details,
            from_datetime=spec.from_datetime,
            to_datetime=spec.to_datetime,
            pay_in_advance=spec.pay_in_advance,
            true_up_parent=saved.get(id(spec.true_up_of)) if spec.true_up_of else None,
        )
        saved[id(spec)] = fee


def billing_invoice_create(plan: BillingPlan, now: datetime) -> Invoice:
    """The invoice of one billing and its InvoiceSubscription row, together or not at all (the
    period close, in-advance and progressive billing all write through this)."""
    subscription = plan.subscription
    schedule = Schedule.of(subscription)
    grace = _grace_days(subscription)
    issuing_date = schedule.day(plan.boundary)
    try:
        # One savepoint for the invoice and its billing row: when the unique (subscription,
        # boundary) constraint refuses the billing, the invoice row goes with it.
        with transaction.atomic():
            invoice = Invoice.objects.create(
                customer=subscription.customer,
                invoice_type=Invoice.InvoiceType.SUBSCRIPTION,
                currency=subscription_currency(subscription),
                fx_details=plan.fx_details,
                issuing_date=issuing_date,
                payment_due_date=issuing_date,
                finalize_after=now + timedelta(days=grace),
            )
            InvoiceSubscription.objects.create(
                invoice=invoice,
                subscription=subscription,
                boundary=plan.boundary,
                invoicing_reason=plan.reason,
                from_datetime=plan.from_datetime,
                to_datetime=plan.to_datetime,
                charges_from_datetime=plan.charges_from,
                charges_to_datetime=plan.charges_to,
            )
    except IntegrityError as exc:
        raise AlreadyBilled from exc
    _save_fees(invoice, plan)
    invoice_totals(invoice).save()
    return invoice


def _advance(subscription: Subscription, boundary: datetime, reason: str) -> None:
    """Move next_billing_at past the boundary just billed (none after the final billing)."""
    if reason == Reason.TERMINATING:
        subscription.next_billing_at = None
    else:
        subscription.next_billing_at = next_boundary(subscription, boundary)
    subscription.save(update_fields=["next_billing_at", "updated_at"])


@transaction.atomic
def subscription_bill(
    *, subscription_id: int, boundary: datetime, reason: str, now: datetime | None = None
) -> Invoice | None:
    """Bill one boundary of one subscription; None if it was billed already."""
    now = now or timezone.now()
    subscription = (
        Subscription.objects.select_for_update(of=("self",))
        .select_related("customer", "plan__minimum_commitment", "plan__parent")
        .get(pk=subscription_id)
    )
    closes = [Reason.STARTING, Reason.PERIODIC, Reason.TERMINATING]  # not in-advance/progressive
    billed = InvoiceSubscription.objects.filter(
        subscription=subscription, boundary=boundary, invoicing_reason__in=closes
    )
    if reason == Reason.TERMINATING:
        if subscription.next_billing_at is None:
            return None  # the termination was settled already (its invoice may be skipped)
        termination_credit_notes(subscription=subscription)
        skip = subscription.on_termination_invoice == Subscription.OnTerminationInvoice.SKIP
        if skip or billed.exists():  # no closing invoice, or a start at this very instant
            _advance(subscription, boundary, reason)
            return None
    elif billed.exists():
        return None
    plan = plan_for(subscription, boundary, reason)
    _check_range(plan)
    try:
        invoice = billing_invoice_create(plan, now)
    except AlreadyBilled:
        return None
    _advance(subscription, boundary, reason)
    notify(invoice, "invoice.created")
    if _grace_days(subscription) == 0:
        return invoice_finalize(invoice=invoice, now=now)
    notify(invoice, "invoice.drafted")
    return invoice


def due_boundary(subscription: Subscription, now: datetime) -> tuple[datetime, str] | None:
    """The next billing of a subscription if it is due at `now`: (boundary, reason). A terminated
    subscription first gets the periodic billings it missed, then its termination billing."""
    due = subscription.next_billing_at
    if due is None or subscription.status not in (Status.ACTIVE, Status.TERMINATED):
        return None
    ended = subscription.terminated_at if subscription.status == Status.TERMINATED else None
    if ended is not None and due >= ended:
        return ended, Reason.TERMINATING
    if due > now:
        return None
    if due == subscription.started_at:
        return due, Reason.STARTING
    return due, Reason.PERIODIC


def subscription_bill_due(*, subscription_id: int, now: datetime | None = None) -> list[Invoice]:
    """Bill every due boundary of a subscription, oldest first (one transaction each)."""
    now = now or timezone.now()
    invoices: list[Invoice] = []
    while True:
        subscription = Subscription.objects.select_related("customer", "plan").get(
            pk=subscription_id
        )
        if _end_passed(subscription, now):
            # Its planned end came first: terminate (which bills what is due, in order) rather
            # than bill a period or renew an advance fee past the end.
            subscription_terminate(subscription=subscription, now=subscription.ending_at)
            continue
        due = due_boundary(subscription, now)
        if due is None:
            return invoices
        invoice = subscription_bill(
            subscription_id=subscription_id, boundary=due[0], reason=due[1], now=now
        )
        if invoice is None:  # billed by someone else meanwhile; next_billing_at moved with it
            return invoices
        invoices.append(invoice)


def _end_passed(subscription: Subscription, now: datetime) -> bool:
    ending = subscription.ending_at
    return subscription.status == Status.ACTIVE and ending is not None and ending <= now


@transaction.atomic
def subscription_schedule(*, subscription: Subscription) -> None:
    """Set the first next_billing_at of a subscription that just started. A start now with a
    base fee in advance bills at once; a backdated start bills nothing for past periods (Lago).

    Backdated means created with a start in the past, measured against when the row was created
    — not against when this runs: a pending start or a downgrade activated late by the beat
    still bills every period from its start."""
    subscription = lock_subscription(subscription.pk)
    if subscription.status != Status.ACTIVE or subscription.next_billing_at is not None:
        return
    started, created = subscription.started_at, subscription.created_at
    backdated = started < created - timedelta(hours=1)
    if bills_at_start(subscription) and not backdated:
        subscription.next_billing_at = started
    else:
        after = created if backdated else started
        subscription.next_billing_at = next_boundary(subscription, after)
    subscription.save(update_fields=["next_billing_at", "updated_at"])


def subscription_catch_up(*, subscription: Subscription, now: datetime | None = None):
    """Bill a backdated subscription's past periods too (by default they are skipped, as in
    Lago); for a demo or a migration that wants its history invoiced. Only before any billing."""
    with transaction.atomic():
        subscription = lock_subscription(subscription.pk)
        if subscription.status != Status.ACTIVE or subscription.billings.exists():
            return []
        started = subscription.started_at
        advance = bills_at_start(subscription)
        subscription.next_billing_at = started if advance else next_boundary(subscription, started)
        subscription.save(update_fields=["next_billing_at", "updated_at"])
    return subscription_bill_due(subscription_id=subscription.pk, now=now)


def subscriptions_schedule_unscheduled() -> list[int]:
    """Give every active subscription without a next_billing_at its first one; the ids it
    looked at. The close's write before it lists what is due (`subscriptions_due` only reads):
    pass the ids on, they are billed this run whatever their new next_billing_at."""
    unscheduled = Subscription.objects.filter(status=Status.ACTIVE, next_billing_at__isnull=True)
    ids = []
    for subscription in unscheduled:
        subscription_schedule(subscription=subscription)
        ids.append(subscription.pk)
    return ids


def subscriptions_due(now: datetime, *, scheduled: Iterable[int] = ()) -> list[int]:
    """Ids of subscriptions with a billing due: active past their next_billing_at, or
    terminated with their final invoice not made yet, plus those the caller has just
    `scheduled` (see `subscriptions_schedule_unscheduled`). A read: it writes nothing."""
    active = Subscription.objects.filter(status=Status.ACTIVE, next_billing_at__lte=now)
    ended = Subscription.objects.filter(status=Status.TERMINATED, next_billing_at__isnull=False)
    ids = set(active.values_list("pk", flat=True)) | set(ended.values_list("pk", flat=True))
    return sorted(ids | set(scheduled))


def invoice_refresh_fees(invoice: Invoice) -> None:
    """Recompute a draft's fee lines from its billings (inside the caller's transaction)."""
    invoice.fees.all().delete()
    for billing in invoice.billings.select_related("subscription__customer", "subscription__plan"):
        plan = plan_for(
            billing.subscription, billing.boundary, billing.invoicing_reason, invoice.pk
        )
        _check_range(plan)
        _save_fees(invoice, plan)
        invoice.fx_details = plan.fx_details or invoice.fx_details


def subscription_preview(*, subscription: Subscription, now: datetime | None = None):
    """The next invoice of a subscription as it would be now (nothing saved)."""
    now = now or timezone.now()
    if subscription.status != Status.ACTIVE:
        return None
    boundary = subscription.next_billing_at or next_boundary(subscription, now)
    reason = Reason.STARTING if boundary == subscription.started_at else Reason.PERIODIC
    return plan_for(subscription, boundary, reason)
