"""Comparing the provider's recent payments with our payment rows; each difference is recorded
once (one open row per provider payment and kind) for finance staff to resolve."""

from datetime import datetime

from django.db import IntegrityError, transaction

from payments.models import Payment, ReconciliationIssue
from payments.providers import PROVIDERS
from payments.providers.base import PaymentProvider, RemotePayment

Kind = ReconciliationIssue.Kind


def payments_reconcile(*, since: datetime) -> list[ReconciliationIssue]:
    """Compare each configured provider's payments since `since` with our rows."""
    issues = []
    for provider in PROVIDERS.values():
        if provider.enabled():
            issues += _reconcile(provider, since)
    return issues


def _reconcile(provider: PaymentProvider, since: datetime) -> list[ReconciliationIssue]:
    issues = []
    ours = {p.provider_payment_id: p for p in Payment.objects.exclude(provider_payment_id="")}
    for remote in provider.recent_payments():
        if remote.created < since.timestamp():
            continue
        issue = _compare(provider, remote, ours.get(remote.provider_payment_id))
        if issue is not None:
            issues.append(issue)
    return issues


def _compare(
    provider: PaymentProvider, remote: RemotePayment, payment: Payment | None
) -> ReconciliationIssue | None:
    remote_id, label = remote.provider_payment_id, provider.label
    if payment is None:
        if not remote.ours:
            return None  # not one of ours (another integration on the same account)
        return _issue(Kind.UNKNOWN_AT_US, remote_id, None, "no payment row")
    expected = provider.payment_status(remote.status)
    if remote.amount_cents != payment.amount_cents:
        details = f"{label} {remote.amount_cents} vs ours {payment.amount_cents}"
        return _issue(Kind.AMOUNT_MISMATCH, remote_id, payment, details)
    if expected != payment.status and payment.provider_payment_id == remote_id:
        details = f"{label} {remote.status} vs ours {payment.status}"
        return _issue(Kind.STATUS_MISMATCH, remote_id, payment, details)
    return None


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
