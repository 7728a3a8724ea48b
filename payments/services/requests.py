"""Lago's POST /payment_requests (PaymentRequests::CreateService): a customer's overdue
invoices gathered into one request for what is due on them, then collected at once through
the customer's provider with the default payment method. Without a provider or a method the
request stays pending (Lago e-mails it to the customer; no e-mail is sent here)."""

from django.db import transaction
from django.utils import timezone

from core.errors import NotAllowed, NotFound, ValidationFailed
from core.validation import is_uuid
from customers.models import Customer
from invoices.models import Invoice
from invoices.selectors import invoice_due_cents
from payments.models import Payment, PaymentRequest
from payments.providers import provider_for
from payments.providers.base import ProviderDecline, ProviderError
from payments.serializers import payment_request_json
from payments.services.events import payment_apply_intent, payment_record_failure
from payments.services.sync import customer_provider_sync, default_payment_method
from webhooks.services import webhook_send


def _invoices(customer: Customer, ids) -> list[Invoice]:
    if not isinstance(ids, list):
        raise ValidationFailed({"lago_invoice_ids": ["invalid_format"]})
    wanted = [value for value in ids if is_uuid(value)]
    invoices = list(
        customer.invoices.filter(lago_id__in=wanted)
        .exclude(status__in=[Invoice.Status.DELETED, Invoice.Status.CLOSED])
        .order_by("pk")
    )
    if not invoices:
        raise NotFound("invoice")
    if any(not invoice.payment_overdue for invoice in invoices):
        raise NotAllowed("invoices_not_overdue", "Only overdue invoices are requested.")
    if len({invoice.currency for invoice in invoices}) > 1:
        raise NotAllowed("invoices_have_different_currencies", "One currency per request.")
    return invoices


@transaction.atomic
def _request_create(data: dict) -> PaymentRequest:
    customer = Customer.objects.live().filter(external_id=data.get("external_customer_id")).first()
    if customer is None:
        raise NotFound("customer")
    invoices = _invoices(customer, data.get("lago_invoice_ids"))
    email = data.get("email") if isinstance(data.get("email"), str) else ""
    request = PaymentRequest.objects.create(
        customer=customer,
        email=email or customer.email or "",
        amount_cents=sum(invoice_due_cents(invoice) for invoice in invoices),
        currency=invoices[0].currency,
    )
    request.invoices.set(invoices)
    webhook_send(
        webhook_type="payment_request.created",
        object_type="payment_request",
        data=payment_request_json(request),
    )
    return request


def payment_request_create(*, data: dict) -> PaymentRequest:
    """Create the request (one transaction), then try to collect it."""
    request = _request_create(data)
    payment_request_collect(request=request)
    request.refresh_from_db()
    return request


def payment_request_collect(*, request: PaymentRequest) -> Payment | None:
    """Charge the request's amount with the customer's default method, once; its payment's
    success settles every invoice of the request (payments.services.settlement)."""
    customer = request.customer
    provider = provider_for(customer)
    if provider is None or request.amount_cents <= 0 or request.payments.exists():
        return None
    if not customer.provider_customer_id:
        customer_provider_sync(customer=customer)
        customer.refresh_from_db()
    method = default_payment_method(customer)
    if method is None:
        return None
    payment = Payment.objects.create(
        customer=customer,
        payment_request=request,
        provider=provider.name,
        amount_cents=request.amount_cents,
        currency=request.currency,
        attempts=1,
        status=Payment.Status.PROCESSING,
    )
    now = timezone.now()
    try:
        charge = provider.charge(
            invoice=request, payment=payment, amount_cents=request.amount_cents, method=method
        )
    except ProviderDecline as exc:
        return payment_record_failure(payment, exc.code, exc.message, now)
    except ProviderError as exc:
        return payment_record_failure(payment, "provider_error", str(exc), now)
    return payment_apply_intent(
        provider_payment_id=charge.provider_payment_id,
        status=charge.status,
        charge_id=charge.charge_id,
        error=charge.error,
        payment=payment,
        now=now,
    )
