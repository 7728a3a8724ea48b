"""Refunding a credit note's refund part against the invoice's paid payment, once, and the
refund's status as the provider reports it (forward only)."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from invoices.models import CreditNote
from payments.models import Payment, Refund
from payments.providers import provider_named
from payments.providers.base import ProviderError


def credit_note_refund(*, credit_note: CreditNote) -> Refund | None:
    """Refund a credit note's refund part against the invoice's provider payment (once)."""
    if not credit_note.refund_amount_cents:
        return None
    payment = Payment.objects.filter(
        invoice=credit_note.invoice, kind=Payment.Kind.PROVIDER, status=Payment.Status.SUCCEEDED
    ).first()
    provider = provider_named(payment.provider) if payment is not None else None
    if provider is None or not provider.enabled():
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
        remote = provider.refund(payment=payment, refund=refund, credit_note=credit_note)
    except ProviderError as exc:
        Refund.objects.filter(pk=refund.pk).update(status=Refund.Status.FAILED, last_error=str(exc))
        _credit_note_refund_status(credit_note, CreditNote.RefundStatus.FAILED)
        _refund_failure(credit_note, payment.provider, str(exc))
        return refund
    Refund.objects.filter(pk=refund.pk).update(provider_refund_id=remote.provider_payment_id)
    if provider.refund_status(remote.status) == Refund.Status.SUCCEEDED:
        refund_apply(provider_refund_id=remote.provider_payment_id, status=remote.status)
    return Refund.objects.get(pk=refund.pk)


def _credit_note_refund_status(credit_note: CreditNote, status: str) -> None:
    fields = {"refund_status": status}
    if status == CreditNote.RefundStatus.SUCCEEDED:
        fields["refunded_at"] = timezone.now()
    CreditNote.objects.filter(pk=credit_note.pk).exclude(refund_status="succeeded").update(**fields)


def _refund_failure(credit_note: CreditNote, provider_name: str, message: str) -> None:
    from webhooks.services import webhook_send

    webhook_send(
        webhook_type="credit_note.provider_refund_failure",
        object_type="credit_note_payment_provider_refund_error",
        data={
            "lago_credit_note_id": str(credit_note.lago_id),
            "lago_customer_id": str(credit_note.customer.lago_id),
            "external_customer_id": credit_note.customer.external_id,
            "payment_provider": provider_name,
            "provider_error": {"message": message},
        },
    )


def refund_apply(*, provider_refund_id: str, status: str) -> Refund | None:
    """A refund's status from the provider, in its vocabulary (forward only)."""
    with transaction.atomic():
        refund = (
            Refund.objects.select_for_update()
            .select_related("credit_note", "payment")
            .filter(provider_refund_id=provider_refund_id)
            .first()
        )
        if refund is None or refund.status == Refund.Status.SUCCEEDED:
            return refund
        mapped = provider_named(refund.payment.provider).refund_status(status)
        refund.status = mapped
        refund.save(update_fields=["status", "updated_at"])
        if mapped != "pending":
            _credit_note_refund_status(refund.credit_note, mapped)
        if mapped == "failed":
            provider_name = refund.payment.provider
            _refund_failure(refund.credit_note, provider_name, f"refund {status} at the provider")
    return refund
