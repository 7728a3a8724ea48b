"""Lago's POST /invoices/preview: the invoice a customer would get, computed by the real
billing path and then rolled back, so nothing is written (not the customer, the subscription,
the invoice, its number, a wallet debit nor a webhook: every side effect outside the database
runs only after a commit, which never happens here).

Three cases, as Lago's: a plan for a new subscription (`plan_code`, `subscription_at`,
`billing_time`): its first invoice, at the start for a plan paid in advance, else at the end of
the first period; existing subscriptions (`subscriptions.external_ids`): the next invoice with
the usage so far; the same with `subscriptions.terminated_at`: the termination invoice; with
`subscriptions.plan_code`: the invoice of that plan change."""

import uuid
from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from core.errors import NotFound, ValidationFailed
from core.validation import parse_moment
from customers.models import Customer, Subscription
from customers.services import customer_upsert, subscription_create, subscription_terminate
from invoices.models import Invoice, InvoiceSubscription
from invoices.services.close import subscription_bill, subscription_bill_due
from invoices.services.fees import next_boundary
from invoices.services.lifecycle import invoice_finalize

Reason = InvoiceSubscription.Reason
CUSTOMER_FIELDS = (
    "external_id",
    "name",
    "currency",
    "country",
    "state",
    "city",
    "zipcode",
    "address_line1",
    "address_line2",
    "timezone",
    "tax_identification_number",
    "shipping_address",
)


def invoice_preview(*, data: dict, render) -> dict:
    """`render(invoice)` of the invoice the request describes, taken inside a transaction that
    is then rolled back."""
    with transaction.atomic():
        invoice = _preview_invoice(data)
        rendered = render(invoice)
        transaction.set_rollback(True)
    return rendered


def _when(data: dict, field: str) -> datetime | None:
    raw = data.get(field)
    if raw in (None, ""):
        return None
    moment = parse_moment(raw) if isinstance(raw, str) else None
    if moment is None:
        raise ValidationFailed({field: ["invalid_date"]})
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # naive: UTC


def _customer(data: dict) -> Customer:
    given = data.get("customer")
    if not isinstance(given, dict):
        raise ValidationFailed({"customer": ["value_is_mandatory"]})
    fields = {key: given[key] for key in CUSTOMER_FIELDS if given.get(key) is not None}
    existing = Customer.objects.live().filter(external_id=fields.get("external_id")).first()
    if existing is not None:
        return existing  # Lago previews an existing customer as it is
    fields.setdefault("external_id", f"preview-{uuid.uuid4()}")
    return customer_upsert(data=fields)[0]


def _preview_invoice(data: dict) -> Invoice:
    customer = _customer(data)
    subscriptions = data.get("subscriptions")
    if subscriptions is not None:
        if not isinstance(subscriptions, dict):
            raise ValidationFailed({"subscriptions": ["invalid_format"]})
        invoice = _existing_subscription_invoice(customer, subscriptions)
    elif data.get("plan_code"):
        invoice = _new_subscription_invoice(customer, data)
    else:
        raise ValidationFailed({"plan_code": ["value_is_mandatory"]})
    if invoice.status == Invoice.Status.DRAFT:  # taxes and deductions apply at finalization
        invoice = invoice_finalize(invoice=invoice, now=timezone.now())
    return invoice


def _billed(subscription: Subscription, now: datetime) -> Invoice:
    """The latest invoice billing `subscription` after billing what is due at `now`."""
    subscription_bill_due(subscription_id=subscription.pk, now=now)
    return _latest_invoice(subscription)


def _latest_invoice(subscription: Subscription) -> Invoice:
    invoice = Invoice.objects.filter(billings__subscription=subscription).order_by("-id").first()
    if invoice is None:
        raise NotFound("invoice")  # a zero invoice the settings skip: nothing to preview
    return invoice


def _new_subscription_invoice(customer: Customer, data: dict) -> Invoice:
    starts = _when(data, "subscription_at") or timezone.now()
    request = {
        "external_customer_id": customer.external_id,
        "plan_code": data["plan_code"],
        "external_id": f"preview-{uuid.uuid4()}",
        "billing_time": data.get("billing_time") or "calendar",
        "subscription_at": starts.isoformat(),
    }
    subscription = subscription_create(data=request, now=starts)
    # Billed at its start (base fee in advance) or at the end of its first period, whatever
    # the clock says (a start in the past is not "backdated" here: it is the question asked).
    if subscription.plan.pay_in_advance:
        boundary, reason = subscription.started_at, Reason.STARTING
    else:
        boundary, reason = next_boundary(subscription, subscription.started_at), Reason.PERIODIC
    subscription_bill(
        subscription_id=subscription.pk, boundary=boundary, reason=reason, now=boundary
    )
    return _latest_invoice(subscription)


def _existing_subscription_invoice(customer: Customer, data: dict) -> Invoice:
    ids = data.get("external_ids")
    if not isinstance(ids, list) or len(ids) != 1:
        raise ValidationFailed({"external_ids": ["one_subscription_per_preview"]})
    subscription = (
        customer.subscriptions.filter(external_id=ids[0], status=Subscription.Status.ACTIVE)
        .select_related("plan")
        .first()
    )
    if subscription is None:
        raise NotFound("subscription")
    terminated_at = _when(data, "terminated_at")
    if terminated_at is not None:
        subscription_terminate(subscription=subscription, now=terminated_at)
        return _billed(subscription, terminated_at)
    if data.get("plan_code"):
        now = timezone.now()
        request = {
            "external_customer_id": customer.external_id,
            "plan_code": data["plan_code"],
            "external_id": subscription.external_id,
        }
        subscription_create(data=request, now=now)
        return _billed(subscription, now)
    return _billed(subscription, subscription.next_billing_at)
