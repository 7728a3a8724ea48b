"""A payment's state as its provider reports it — forward only — and what follows from it:
the invoice's payment status, the outgoing webhooks, the dunning schedule, the overdue mark."""

from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from core import display
from invoices.locks import lock_invoice
from invoices.models import Invoice
from invoices.services.lifecycle import payment_status_changed
from payments.models import Payment
from payments.providers import provider_named
from payments.serializers import payment_json
from payments.services.receipts import payment_receipt_issue
from payments.services.settlement import payment_request_failed, payment_request_settle

Status = Payment.Status
TERMINAL = {Status.SUCCEEDED}

# Statuses of one intent reached in the same second: a final one outranks a passing one.
STATUS_RANK = {Status.SUCCEEDED: 2, Status.FAILED: 1}


def payment_record_failure(payment: Payment, code: str, message: str, now: datetime) -> Payment:
    """A failed attempt: the next retry on the schedule, or overdue after the last."""
    with transaction.atomic():
        payment = (
            Payment.objects.select_for_update(of=("self",))
            .select_related("invoice")
            .get(pk=payment.pk)
        )
        if payment.status == Status.SUCCEEDED:
            return payment
        if payment.payment_request_id is not None:
            return _request_payment_failed(payment, f"{code}: {message}", now)
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


def _request_payment_failed(payment: Payment, error: str, now: datetime) -> Payment:
    """A payment request's payment failed: no retry schedule (a new request is the retry)."""
    payment.status, payment.last_error, payment.next_retry_at = Status.FAILED, error, None
    payment.provider_status_at = payment.provider_status_at or now.replace(microsecond=0)
    fields = ["status", "last_error", "next_retry_at", "provider_status_at", "updated_at"]
    payment.save(update_fields=fields)
    payment_request_failed(payment)
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
        amount = display.money(payment.amount_cents, payment.currency)
        transaction.on_commit(
            lambda: send_mail(
                f"Payment failed for good: invoice {number}",
                f"All retries of invoice {number} ({amount}) failed: {payment.last_error}. "
                "It is now overdue; collect it by hand.",
                settings.DEFAULT_FROM_EMAIL,
                recipients,
            )
        )


def _invoice_payment_status(invoice: Invoice, status: str) -> None:
    invoice = lock_invoice(invoice.pk)
    if invoice.payment_status == status or invoice.payment_status == "succeeded":
        return
    invoice.payment_status, invoice.payment_status_changed_at = status, timezone.now()
    if status == Invoice.PaymentStatus.SUCCEEDED:
        invoice.payment_overdue = False
    fields = ["payment_status", "payment_status_changed_at", "payment_overdue", "updated_at"]
    invoice.save(update_fields=fields)
    payment_status_changed(invoice)


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
    """Move a payment to the provider's state (`status` in the provider's vocabulary) —
    forward only: a succeeded payment never goes back, an event about an older attempt's
    PaymentIntent is ignored, an event older than the state we hold for the same intent (`at`,
    the provider's `created`) is ignored, and an event repeating the state we already hold (the
    webhook of our own synchronous result) changes nothing. Without `at` (our own synchronous
    answer) the state is dated now, to the second."""
    now = now or timezone.now()
    at = (at or now).replace(microsecond=0)
    with transaction.atomic():
        rows = Payment.objects.select_for_update(of=("self",)).select_related("invoice")
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
        new_status = provider_named(found.provider).payment_status(status)
        if payment is None and _is_older(found, provider_payment_id, new_status, at):
            return found  # the provider said something newer about this intent already
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
            if found.payment_request_id is not None:
                payment_request_settle(found)
            else:
                _invoice_payment_status(found.invoice, Invoice.PaymentStatus.SUCCEEDED)
        found.save()
        if new_status == Status.SUCCEEDED:
            payment_receipt_issue(payment=found)
        if new_status != Status.FAILED:
            _announce(found, new_status)
    if new_status == Status.FAILED:
        return payment_record_failure(found, "payment_failed", error or status, now)
    return found


def _is_older(payment: Payment, intent_id: str, status: str, at: datetime) -> bool:
    """Is a state of `intent_id` dated `at` older than the one the payment holds? Provider
    timestamps have whole seconds: in a tie the final state (failed, succeeded) wins."""
    held_at = payment.provider_status_at  # reset by each new attempt
    if held_at is None or payment.provider_payment_id not in ("", intent_id):
        return False
    held = (held_at, STATUS_RANK.get(payment.status, 0))
    return (at, STATUS_RANK.get(status, 0)) < held
