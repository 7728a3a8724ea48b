"""Collecting a finalized invoice's amount due through the customer's provider: one payment
row per invoice, one claimed attempt at a time, dunning retries, a retry asked by a person.

Every provider call carries an idempotency key derived from our own rows; our rows are the
guard against double charges (a Stripe-compatible server, like a retried network call, may not
honour idempotency keys)."""

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import NotAllowed, RuleViolation, ValidationFailed
from core.locks import lock_one
from invoices.models import Invoice
from invoices.selectors import invoice_due_cents
from payments.models import Payment
from payments.providers import provider_for
from payments.providers.base import ProviderDecline, ProviderError
from payments.services.events import payment_apply_intent, payment_record_failure
from payments.services.sync import collects, customer_provider_sync, default_payment_method

logger = logging.getLogger(__name__)
Status = Payment.Status


def payment_for(invoice: Invoice, provider_name: str) -> Payment:
    """The invoice's payment row (one per invoice, a unique constraint)."""
    try:
        with transaction.atomic():
            payment, _ = Payment.objects.get_or_create(
                invoice=invoice,
                kind=Payment.Kind.PROVIDER,
                defaults={
                    "customer": invoice.customer,
                    "provider": provider_name,
                    "amount_cents": invoice_due_cents(invoice),
                    "currency": invoice.currency,
                },
            )
    except IntegrityError:
        payment = Payment.objects.get(invoice=invoice, kind=Payment.Kind.PROVIDER)
    return payment


def _claim_attempt(payment_id: int) -> Payment | None:
    """Start a new attempt under the row lock, unless one is running or it is paid."""
    with transaction.atomic():
        payment = lock_one(Payment, payment_id)
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
    its provider (off-session). Safe to run twice: a running or paid attempt is never repeated."""
    now = now or timezone.now()
    invoice = Invoice.objects.select_related("customer").get(pk=invoice.pk)
    due = invoice_due_cents(invoice)  # the total less credit-note offsets
    if invoice.status != Invoice.Status.FINALIZED or due <= 0:
        return None
    if invoice.payment_status == Invoice.PaymentStatus.SUCCEEDED:
        return None
    provider = provider_for(invoice.customer)
    if provider is None:
        return None
    if not invoice.customer.provider_customer_id:  # kept in sync on every customer change
        customer_provider_sync(customer=invoice.customer)
        invoice.customer.refresh_from_db()
    payment = _claim_attempt(payment_for(invoice, provider.name).pk)
    if payment is None:
        return Payment.objects.get(invoice=invoice, kind=Payment.Kind.PROVIDER)
    if payment.amount_cents != due:  # an offset since the last attempt
        payment.amount_cents = due
        payment.save(update_fields=["amount_cents", "updated_at"])
    method = default_payment_method(invoice.customer)
    if method is None:
        message = "No default payment method."
        return payment_record_failure(payment, "no_payment_method", message, now)
    try:
        charge = provider.charge(invoice=invoice, payment=payment, amount_cents=due, method=method)
    except ProviderDecline as exc:
        if exc.provider_payment_id:  # its payment_failed webhook is recognised as this attempt's
            Payment.objects.filter(pk=payment.pk).update(
                provider_payment_id=exc.provider_payment_id
            )
        return payment_record_failure(payment, exc.code, exc.message, now)
    except ProviderError as exc:
        # Not the customer's fault: try again on the schedule, no counted decline.
        return payment_record_failure(payment, "provider_error", str(exc), now)
    return payment_apply_intent(
        provider_payment_id=charge.provider_payment_id,
        status=charge.status,
        charge_id=charge.charge_id,
        error=charge.error,
        payment=payment,
        now=now,
    )


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
    if not collects(invoice.customer):
        raise NotAllowed("customer_must_have_payment_provider", "Not collected through Stripe.")
    if invoice_due_cents(invoice) <= 0:
        raise NotAllowed("invalid_status", "Nothing is due on this invoice.")
    provider_payments = Payment.objects.filter(invoice=invoice, kind=Payment.Kind.PROVIDER)
    before = provider_payments.values_list("attempts", flat=True).first()
    payment = invoice_collect(invoice=invoice)
    if payment is None or payment.attempts == (before or 0):
        raise NotAllowed(
            "payment_processor_is_currently_handling_payment",
            "An attempt is running or waits for the customer (3-D Secure).",
        )
    return payment


NOT_PAYABLE = "invalid_invoice_status_or_payment_status"


def invoice_payment_url(*, invoice: Invoice) -> tuple[str, str]:
    """(provider name, a hosted page where the customer pays what the invoice still owes), as
    Lago's GeneratePaymentUrlService: 422 base codes when there is no provider, the invoice is
    not payable, the customer is unknown to the provider or the provider fails."""
    provider = provider_for(invoice.customer)
    if provider is None:
        raise ValidationFailed({"base": ["no_linked_payment_provider"]})
    if invoice.status != Invoice.Status.FINALIZED or invoice.payment_status == "succeeded":
        raise ValidationFailed({"base": [NOT_PAYABLE]})
    amount = invoice_due_cents(invoice)
    if amount <= 0:
        raise ValidationFailed({"base": [NOT_PAYABLE]})
    if not invoice.customer.provider_customer_id:
        raise ValidationFailed({"base": ["missing_payment_provider_customer"]})
    payment = payment_for(invoice, provider.name)
    success_url = settings.PUBLIC_BASE_URL.rstrip("/") + "/"
    try:
        url = provider.payment_url(
            invoice=invoice, payment=payment, amount_cents=amount, success_url=success_url
        )
    except ProviderError as exc:
        logger.warning("payment_url for invoice %s failed: %s", invoice.lago_id, exc)
        raise ValidationFailed({"base": ["payment_provider_error"]}) from exc
    return provider.name, url
