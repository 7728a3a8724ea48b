"""Payment services: sync customers to Stripe, collect finalized invoices with off-session
PaymentIntents, apply provider events (forward-only), dunning retries, refunds, reconciliation.

Every provider call is made outside our row locks' critical sections where possible and carries
an idempotency key derived from our own rows; our rows are the guard against double charges
(localstripe, like a retried network call, may not honour idempotency keys)."""

import logging
from datetime import datetime, timedelta

import stripe
from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.api.formats import iso
from core.errors import NotAllowed, RuleViolation
from customers.models import Customer
from invoices.models import CreditNote, Invoice
from invoices.selectors import invoice_due_cents
from invoices.services.lifecycle import payment_status_changed
from payments.models import Payment, ReconciliationIssue, Refund
from payments.stripe_client import stripe_client, stripe_enabled

logger = logging.getLogger(__name__)
Status = Payment.Status
TERMINAL = {Status.SUCCEEDED}


# --- customers -------------------------------------------------------------------------------


def _customer_params(customer: Customer) -> dict:
    params = {
        "name": customer.display_name,
        "metadata": {"external_id": customer.external_id, "lago_id": str(customer.lago_id)},
    }
    if customer.email:
        params["email"] = customer.email.split(",")[0].strip()
    address = {
        "line1": customer.address_line1,
        "line2": customer.address_line2,
        "city": customer.city,
        "postal_code": customer.zipcode,
        "state": customer.state,
        "country": customer.country,
    }
    address = {k: v for k, v in address.items() if v}
    if address:
        params["address"] = address
    return params


def uses_stripe(customer: Customer) -> bool:
    return stripe_enabled() and customer.payment_provider == "stripe"


def stripe_customer_sync(*, customer: Customer) -> str | None:
    """Create (once) or update the customer at Stripe; returns its id. Linking an existing
    Stripe customer is done by setting provider_customer_id."""
    if not uses_stripe(customer):
        return None
    client = stripe_client()
    params = _customer_params(customer)
    if customer.provider_customer_id:
        client.customers.update(customer.provider_customer_id, params=params)
        _sync_tax_id(customer.provider_customer_id, customer)
        return customer.provider_customer_id
    created = client.customers.create(
        params=params, options={"idempotency_key": f"customer-{customer.lago_id}"}
    )
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if not locked.provider_customer_id:
            locked.provider_customer_id = created.id
            locked.save(update_fields=["provider_customer_id", "updated_at"])
    _sync_tax_id(locked.provider_customer_id, customer)
    return locked.provider_customer_id


# Stripe's tax id types for the countries whose VAT numbers we validate; others are not sent.
STRIPE_TAX_ID_TYPES = {"GB": "gb_vat", "CH": "ch_vat", "NO": "no_vat", "AU": "au_abn"}


def _stripe_tax_id_type(country: str) -> str | None:
    from taxes.vat import is_eu

    return "eu_vat" if is_eu(country) else STRIPE_TAX_ID_TYPES.get((country or "").upper())


def _sync_tax_id(stripe_id: str, customer: Customer) -> None:
    """Keep exactly our tax identification number on the Stripe customer (shown on Stripe's
    receipts); a number Stripe refuses is logged, not fatal to collection."""
    kind = _stripe_tax_id_type(customer.country)
    value = customer.tax_identification_number.replace(" ", "")
    service = stripe_client().customers.tax_ids
    try:
        existing = service.list(stripe_id).data
        if any(t.value == value and t.type == kind for t in existing):
            return
        for tax_id in existing:
            service.delete(stripe_id, tax_id.id)
        if value and kind:
            service.create(stripe_id, params={"type": kind, "value": value})
    except stripe.InvalidRequestError as exc:
        logger.warning(
            "tax id not synced to Stripe",
            extra={"customer": customer.external_id, "error": str(exc)},
        )


def default_payment_method(customer: Customer) -> str | None:
    """The card or mandate Stripe would charge: the customer's invoice default there (set by
    our setup page, Stripe's dashboard or the API), else the one we recorded, else the first
    one attached to the customer."""
    if not customer.provider_customer_id:
        return None
    remote = stripe_client().customers.retrieve(customer.provider_customer_id)
    settings_ = getattr(remote, "invoice_settings", None)
    method = getattr(settings_, "default_payment_method", None) if settings_ else None
    if method is not None and not isinstance(method, str):
        method = method.id
    return method or customer.provider_payment_method_id or _attached_method(customer) or None


def _attached_method(customer: Customer) -> str | None:
    """No default anywhere: the first card, else SEPA mandate, attached to the customer (as
    Lago does; covers a card saved through the setup page before its webhook arrived)."""
    for kind in ("card", "sepa_debit"):
        try:
            methods = stripe_client().payment_methods.list(
                params={"customer": customer.provider_customer_id, "type": kind, "limit": 1}
            )
        except stripe.InvalidRequestError:
            continue  # a type this account (or a Stripe-compatible server) does not offer
        if methods.data:
            return methods.data[0].id
    return None


# --- collection ------------------------------------------------------------------------------


def _payment_for(invoice: Invoice) -> Payment:
    """The invoice's payment row (one per invoice, a unique constraint)."""
    try:
        with transaction.atomic():
            payment, _ = Payment.objects.get_or_create(
                invoice=invoice,
                defaults={
                    "customer": invoice.customer,
                    "amount_cents": invoice_due_cents(invoice),
                    "currency": invoice.currency,
                },
            )
    except IntegrityError:
        payment = Payment.objects.get(invoice=invoice)
    return payment


def _claim_attempt(payment_id: int, now: datetime) -> Payment | None:
    """Start a new attempt under the row lock, unless one is running or it is paid."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status in (Status.SUCCEEDED, Status.PROCESSING, Status.REQUIRES_ACTION):
            return None
        payment.attempts += 1
        payment.status, payment.next_retry_at = Status.PROCESSING, None
        payment.provider_status_at = None  # a new attempt: a new PaymentIntent, dated anew
        fields = ["attempts", "status", "next_retry_at", "provider_status_at", "updated_at"]
        payment.save(update_fields=fields)
        return payment


def invoice_collect(*, invoice: Invoice, now: datetime | None = None) -> Payment | None:
    """Charge a finalized invoice's amount due with the customer's default payment method at
    Stripe (off-session). Safe to run twice: a running or paid attempt is never repeated."""
    now = now or timezone.now()
    invoice = Invoice.objects.select_related("customer").get(pk=invoice.pk)
    due = invoice_due_cents(invoice)  # the total less credit-note offsets
    if invoice.status != Invoice.Status.FINALIZED or due <= 0:
        return None
    if invoice.payment_status == Invoice.PaymentStatus.SUCCEEDED:
        return None
    if not uses_stripe(invoice.customer):
        return None
    if not invoice.customer.provider_customer_id:  # kept in sync on every customer change
        stripe_customer_sync(customer=invoice.customer)
        invoice.customer.refresh_from_db()
    payment = _claim_attempt(_payment_for(invoice).pk, now)
    if payment is None:
        return Payment.objects.get(invoice=invoice)
    if payment.amount_cents != due:  # an offset since the last attempt
        payment.amount_cents = due
        payment.save(update_fields=["amount_cents", "updated_at"])
    method = default_payment_method(invoice.customer)
    if method is None:
        return _record_failure(payment, "no_payment_method", "No default payment method.", now)
    try:
        intent = stripe_client().payment_intents.create(
            params={
                "amount": due,
                "currency": invoice.currency.lower(),
                "customer": invoice.customer.provider_customer_id,
                "payment_method": method,
                "confirm": True,
                "off_session": True,
                "metadata": {
                    "lago_invoice_id": str(invoice.lago_id),
                    "invoice_number": invoice.number or "",
                    "payment_id": str(payment.lago_id),
                    "attempt": str(payment.attempts),
                },
            },
            options={"idempotency_key": payment.attempt_key()},
        )
    except stripe.CardError as exc:
        _remember_intent(payment, exc)
        return _record_failure(payment, exc.code or "card_error", str(exc.user_message), now)
    except stripe.StripeError as exc:
        # Not the customer's fault: try again on the schedule, no counted decline.
        return _record_failure(payment, "provider_error", str(exc), now)
    return payment_apply_intent(
        provider_payment_id=intent.id,
        status=intent.status,
        charge_id=_charge_id(intent),
        error=_intent_error(intent),
        payment=payment,
        now=now,
    )


def _remember_intent(payment: Payment, exc: stripe.CardError) -> None:
    """Stripe names the declined PaymentIntent in the error; keep its id so that its
    payment_failed webhook is recognised as this attempt's."""
    intent = getattr(exc.error, "payment_intent", None) if exc.error else None
    intent_id = intent if isinstance(intent, str) else getattr(intent, "id", "")
    if intent_id:
        Payment.objects.filter(pk=payment.pk).update(provider_payment_id=intent_id)


def _charge_id(intent) -> str:
    charge = getattr(intent, "latest_charge", None)
    return charge if isinstance(charge, str) else getattr(charge, "id", "") or ""


def _intent_error(intent) -> str:
    error = getattr(intent, "last_payment_error", None)
    return getattr(error, "message", "") if error else ""


def _record_failure(payment: Payment, code: str, message: str, now: datetime) -> Payment:
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("invoice").get(pk=payment.pk)
        if payment.status == Status.SUCCEEDED:
            return payment
        payment.status, payment.last_error = Status.FAILED, f"{code}: {message}"
        payment.next_retry_at = _next_retry(payment, now)
        payment.provider_status_at = payment.provider_status_at or now.replace(microsecond=0)
        fields = ["status", "last_error", "next_retry_at", "provider_status_at", "updated_at"]
        payment.save(update_fields=fields)
        _invoice_payment_status(payment.invoice, Invoice.PaymentStatus.FAILED)
        _announce(payment, Status.FAILED, payment.last_error)
        if payment.next_retry_at is None:
            _give_up(payment)
    return payment


def _next_retry(payment: Payment, now: datetime) -> datetime | None:
    """Dunning: retry 3, 5 and 7 days after the failure (PAYMENT_RETRY_DAYS); then stop."""
    days = settings.PAYMENT_RETRY_DAYS
    if payment.attempts > len(days):
        return None
    return now + timedelta(days=days[payment.attempts - 1])


def _give_up(payment: Payment) -> None:
    """After the last retry: the invoice is overdue and finance staff are told."""
    invoice = payment.invoice
    if not invoice.payment_overdue:
        invoice.payment_overdue = True
        invoice.save(update_fields=["payment_overdue", "updated_at"])
    recipients = settings.FINANCE_EMAILS or [e for _, e in settings.ADMINS]
    if recipients:
        number = invoice.number
        transaction.on_commit(
            lambda: send_mail(
                f"Payment failed for good: invoice {number}",
                f"All retries of invoice {number} failed: {payment.last_error}. "
                "It is now overdue; collect it by hand.",
                settings.DEFAULT_FROM_EMAIL,
                recipients,
            )
        )


def _invoice_payment_status(invoice: Invoice, status: str) -> None:
    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.payment_status == status or invoice.payment_status == "succeeded":
        return
    invoice.payment_status = status
    if status == Invoice.PaymentStatus.SUCCEEDED:
        invoice.payment_overdue = False
    invoice.save(update_fields=["payment_status", "payment_overdue", "updated_at"])
    payment_status_changed(invoice)


def payment_json(payment: Payment) -> dict:
    """Lago's payment object in webhooks."""
    return {
        "lago_id": str(payment.lago_id),
        "lago_payable_id": str(payment.invoice.lago_id),
        "payable_type": "Invoice",
        "amount_cents": payment.amount_cents,
        "amount_currency": payment.currency,
        "status": payment.status,
        "payment_status": payment.status,
        "type": "provider",
        "provider_payment_id": payment.provider_payment_id,
        "payment_provider_type": payment.provider,
        "external_customer_id": payment.customer.external_id,
        "created_at": iso(payment.created_at),
    }


def _announce(payment: Payment, status: str, error: str = "") -> None:
    """Outgoing webhooks for a payment's new state (sent after commit)."""
    from webhooks.services import webhook_send

    if status == Status.SUCCEEDED:
        webhook_send(
            webhook_type="payment.succeeded", object_type="payment", data=payment_json(payment)
        )
    elif status == Status.REQUIRES_ACTION:
        webhook_send(
            webhook_type="payment.requires_action",
            object_type="payment",
            data=payment_json(payment),
        )
    elif status == Status.FAILED:
        customer = payment.customer
        code, _, message = error.partition(": ")
        webhook_send(
            webhook_type="invoice.payment_failure",
            object_type="payment_provider_invoice_payment_error",
            data={
                "lago_invoice_id": str(payment.invoice.lago_id),
                "lago_customer_id": str(customer.lago_id),
                "external_customer_id": customer.external_id,
                "provider_customer_id": customer.provider_customer_id,
                "payment_provider": payment.provider,
                "provider_error": {"error_code": code, "message": message or code},
            },
        )


INTENT_STATUS = {
    "succeeded": Status.SUCCEEDED,
    "processing": Status.PROCESSING,
    "requires_action": Status.REQUIRES_ACTION,
    "requires_confirmation": Status.PROCESSING,
    "requires_payment_method": Status.FAILED,
    "canceled": Status.FAILED,
}


# Statuses of one intent reached in the same second: a final one outranks a passing one.
STATUS_RANK = {Status.SUCCEEDED: 2, Status.FAILED: 1}


def payment_apply_intent(
    *,
    provider_payment_id: str,
    status: str,
    charge_id: str = "",
    error: str = "",
    payment: Payment | None = None,
    metadata_payment_id: str | None = None,
    attempt: int | None = None,
    now: datetime | None = None,
    at: datetime | None = None,
) -> Payment | None:
    """Move a payment to the provider's state — forward only: a succeeded payment never goes
    back, an event about an older attempt's PaymentIntent is ignored, an event older than the
    state we hold for the same intent (`at`, Stripe's `created`) is ignored, and an event
    repeating the state we already hold (the webhook of our own synchronous result) changes
    nothing. Without `at` (our own synchronous answer) the state is dated now, to the second."""
    now = now or timezone.now()
    at = (at or now).replace(microsecond=0)
    with transaction.atomic():
        rows = Payment.objects.select_for_update().select_related("invoice")
        if payment is not None:
            found = rows.get(pk=payment.pk)
        else:
            found = rows.filter(provider_payment_id=provider_payment_id).first()
            if found is None and metadata_payment_id:
                found = rows.filter(lago_id=metadata_payment_id).first()
        if found is None or found.status in TERMINAL:
            return found
        older = found.provider_payment_id and found.provider_payment_id != provider_payment_id
        if payment is None and (older or (attempt is not None and attempt != found.attempts)):
            return found  # an event about an older attempt's PaymentIntent
        new_status = INTENT_STATUS.get(status, Status.PROCESSING)
        if payment is None and _is_older(found, provider_payment_id, new_status, at):
            return found  # Stripe said something newer about this intent already
        found.provider_status_at = max(at, found.provider_status_at or at)
        if payment is None and new_status == found.status:
            found.provider_payment_id = found.provider_payment_id or provider_payment_id
            found.save(update_fields=["provider_payment_id", "provider_status_at", "updated_at"])
            return found
        found.provider_payment_id = provider_payment_id
        found.provider_charge_id = charge_id or found.provider_charge_id
        found.status = new_status
        if new_status == Status.SUCCEEDED:
            found.succeeded_at, found.next_retry_at, found.last_error = now, None, ""
            _invoice_payment_status(found.invoice, Invoice.PaymentStatus.SUCCEEDED)
        found.save()
        if new_status != Status.FAILED:
            _announce(found, new_status)
    if new_status == Status.FAILED:
        return _record_failure(found, "payment_failed", error or status, now)
    return found


def _is_older(payment: Payment, intent_id: str, status: str, at: datetime) -> bool:
    """Is a state of `intent_id` dated `at` older than the one the payment holds? Stripe's
    `created` has whole seconds: in a tie the final state (failed, succeeded) wins."""
    held_at = payment.provider_status_at  # reset by each new attempt
    if held_at is None or payment.provider_payment_id not in ("", intent_id):
        return False
    held = (held_at, STATUS_RANK.get(payment.status, 0))
    return (at, STATUS_RANK.get(status, 0)) < held


def payments_retry_due(*, now: datetime | None = None) -> list[int]:
    """Invoices whose failed payment is due for its next retry."""
    now = now or timezone.now()
    due = Payment.objects.filter(status=Status.FAILED, next_retry_at__lte=now)
    return list(due.values_list("invoice_id", flat=True))


def payment_retry_now(*, invoice: Invoice) -> Payment:
    """A retry asked by a person or the API: a new attempt at once, whatever the schedule —
    or a refusal saying why (405 in the API, Lago's codes); never a silent no-op."""
    if invoice.status != Invoice.Status.FINALIZED:
        raise RuleViolation("invoice_not_finalized", "Only a finalized invoice is collected.")
    if invoice.payment_status == Invoice.PaymentStatus.SUCCEEDED:
        raise RuleViolation("invoice_already_paid", "This invoice is paid.")
    if not uses_stripe(invoice.customer):
        raise NotAllowed("customer_must_have_payment_provider", "Not collected through Stripe.")
    if invoice_due_cents(invoice) <= 0:
        raise NotAllowed("invalid_status", "Nothing is due on this invoice.")
    before = Payment.objects.filter(invoice=invoice).values_list("attempts", flat=True).first()
    payment = invoice_collect(invoice=invoice)
    if payment is None or payment.attempts == (before or 0):
        raise NotAllowed(
            "payment_processor_is_currently_handling_payment",
            "An attempt is running or waits for the customer (3-D Secure).",
        )
    return payment


# --- refunds ---------------------------------------------------------------------------------


def credit_note_refund(*, credit_note: CreditNote) -> Refund | None:
    """Refund a credit note's refund part against the invoice's Stripe payment (once)."""
    if not credit_note.refund_amount_cents:
        return None
    payment = Payment.objects.filter(invoice=credit_note.invoice, status=Status.SUCCEEDED).first()
    if payment is None or not stripe_enabled():
        return None  # refunded outside the provider; refund_status stays pending
    try:
        with transaction.atomic():
            refund, _ = Refund.objects.get_or_create(
                credit_note=credit_note,
                defaults={"payment": payment, "amount_cents": credit_note.refund_amount_cents},
            )
    except IntegrityError:
        refund = Refund.objects.get(credit_note=credit_note)
    if refund.provider_refund_id:
        return refund
    try:
        remote = stripe_client().refunds.create(
            params={
                "payment_intent": payment.provider_payment_id,
                "amount": refund.amount_cents,
                "metadata": {"credit_note_id": str(credit_note.lago_id)},
            },
            options={"idempotency_key": f"refund-{refund.lago_id}"},
        )
    except stripe.StripeError as exc:
        Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.FAILED, last_error=str(exc))
        _credit_note_refund_status(credit_note, CreditNote.RefundStatus.FAILED)
        _refund_failure(credit_note, str(exc))
        return refund
    Refund.objects.filter(pk=refund.pk).update(provider_refund_id=remote.id)
    if remote.status == "succeeded":
        refund_apply(provider_refund_id=remote.id, status="succeeded")
    return Refund.objects.get(pk=refund.pk)


def _credit_note_refund_status(credit_note: CreditNote, status: str) -> None:
    fields = {"refund_status": status}
    if status == CreditNote.RefundStatus.SUCCEEDED:
        fields["refunded_at"] = timezone.now()
    CreditNote.objects.filter(pk=credit_note.pk).exclude(refund_status="succeeded").update(**fields)


def _refund_failure(credit_note: CreditNote, message: str) -> None:
    from webhooks.services import webhook_send

    webhook_send(
        webhook_type="credit_note.provider_refund_failure",
        object_type="credit_note_payment_provider_refund_error",
        data={
            "lago_credit_note_id": str(credit_note.lago_id),
            "lago_customer_id": str(credit_note.customer.lago_id),
            "external_customer_id": credit_note.customer.external_id,
            "payment_provider": "stripe",
            "provider_error": {"message": message},
        },
    )


def refund_apply(*, provider_refund_id: str, status: str) -> Refund | None:
    """A refund's status from the provider (forward only)."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update()
            .select_related("credit_note")
            .filter(provider_refund_id=provider_refund_id)
            .first()
        )
        if refund is None or refund.status == Refund.Status.SUCCEEDED:
            return refund
        mapped = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}.get(
            status, "pending"
        )
        refund.status = mapped
        refund.save(update_fields=["status", "updated_at"])
        if mapped != "pending":
            _credit_note_refund_status(refund.credit_note, mapped)
        if mapped == "failed":
            _refund_failure(refund.credit_note, f"refund {status} at the provider")
    return refund


# --- reconciliation --------------------------------------------------------------------------


def payments_reconcile(*, since: datetime) -> list[ReconciliationIssue]:
    """Compare recent PaymentIntents at Stripe with our payment rows; record differences."""
    if not stripe_enabled():
        return []
    issues = []
    ours = {p.provider_payment_id: p for p in Payment.objects.exclude(provider_payment_id="")}
    for intent in stripe_client().payment_intents.list(params={"limit": 100}).auto_paging_iter():
        if intent.created < since.timestamp():
            continue
        issue = _compare(intent, ours.get(intent.id))
        if issue is not None:
            issues.append(issue)
    return issues


def _compare(intent, payment: Payment | None) -> ReconciliationIssue | None:
    if payment is None:
        if not _metadata(intent).get("payment_id"):
            return None  # not one of ours (another integration on the same account)
        return _issue(ReconciliationIssue.Kind.UNKNOWN_AT_US, intent.id, None, "no payment row")
    expected = INTENT_STATUS.get(intent.status, Status.PROCESSING)
    if intent.amount != payment.amount_cents:
        details = f"Stripe {intent.amount} vs ours {payment.amount_cents}"
        return _issue(ReconciliationIssue.Kind.AMOUNT_MISMATCH, intent.id, payment, details)
    if expected != payment.status and payment.provider_payment_id == intent.id:
        details = f"Stripe {intent.status} vs ours {payment.status}"
        return _issue(ReconciliationIssue.Kind.STATUS_MISMATCH, intent.id, payment, details)
    return None


def _metadata(obj) -> dict:
    """A Stripe object's metadata as a plain dict (StripeObject is not a mapping)."""
    metadata = getattr(obj, "metadata", None)
    return metadata.to_dict() if metadata is not None else {}


def _issue(kind: str, provider_id: str, payment, details: str) -> ReconciliationIssue:
    try:
        with transaction.atomic():
            return ReconciliationIssue.objects.create(
                kind=kind, provider_payment_id=provider_id, payment=payment, details=details
            )
    except IntegrityError:
        return ReconciliationIssue.objects.get(
            kind=kind, provider_payment_id=provider_id, resolved_at__isnull=True
        )
