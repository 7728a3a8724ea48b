"""A customer's payment methods (Lago's /customers/{id}/payment_methods): recorded as the
customer adds them, one default, deleted on request. The provider is told too: its default
is the one collection charges, and a deleted method is detached so that it is never charged
again (Lago only forgets it)."""

from django.db import transaction
from django.utils import timezone

from core.errors import NotFound
from core.locks import lock_one
from core.validation import is_uuid
from customers.locks import lock_customer
from customers.models import Customer
from payments.models import PaymentMethod
from payments.providers import provider_for


def payment_methods_live(customer: Customer):
    return PaymentMethod.objects.filter(customer=customer, deleted_at__isnull=True)


def payment_method_get(*, customer: Customer, lago_id) -> PaymentMethod:
    rows = payment_methods_live(customer)
    method = rows.filter(lago_id=lago_id).first() if is_uuid(lago_id) else None
    if method is None:
        raise NotFound("payment_method")
    return method


def _only_default(customer: Customer, method: PaymentMethod) -> None:
    payment_methods_live(customer).exclude(pk=method.pk).update(
        is_default=False, updated_at=timezone.now()
    )
    method.is_default = True
    method.save(update_fields=["is_default", "updated_at"])
    Customer.objects.filter(pk=customer.pk).update(
        provider_payment_method_id=method.provider_method_id
    )


@transaction.atomic
def payment_method_record(*, customer: Customer, provider: str, provider_method_id: str):
    """A method the customer just added through the provider: recorded once, as the default
    (our setup page makes it the default at the provider too)."""
    customer = lock_customer(customer.pk)
    method = payment_methods_live(customer).filter(provider_method_id=provider_method_id).first()
    if method is None:
        method = PaymentMethod.objects.create(
            customer=customer, provider=provider, provider_method_id=provider_method_id
        )
    _only_default(customer, method)
    return method


@transaction.atomic
def payment_method_set_default(*, method: PaymentMethod) -> PaymentMethod:
    """Lago's set_as_default; the provider's default follows (what collection charges)."""
    customer = lock_customer(method.customer_id)
    method = lock_one(PaymentMethod, method.pk)
    if method.is_default:
        return method
    _only_default(customer, method)
    provider = provider_for(customer)
    if provider is not None and customer.provider_customer_id:
        provider.set_default_payment_method(customer, method.provider_method_id)
    return method


@transaction.atomic
def payment_method_destroy(*, method: PaymentMethod) -> PaymentMethod:
    """Lago's delete: no longer default, marked deleted; detached at the provider."""
    customer = lock_customer(method.customer_id)
    method = lock_one(PaymentMethod, method.pk)
    method.is_default, method.deleted_at = False, timezone.now()
    method.save(update_fields=["is_default", "deleted_at", "updated_at"])
    if customer.provider_payment_method_id == method.provider_method_id:
        Customer.objects.filter(pk=customer.pk).update(provider_payment_method_id="")
    provider = provider_for(customer)
    if provider is not None:
        provider.detach_payment_method(customer, method.provider_method_id)
    return method
