"""Prepaid credits applied to invoices: wallets pay what is left of a subscription or
progressive-billing invoice (wallets_apply, one step of lifecycle.apply_deductions), and the
usage the customer owes that no wallet has paid yet (wallet_usage_owed, the receiver of the
`wallet.usage_owed` hook that customers.wallets.selectors runs for the ongoing balances).

The wallet ledger itself (credit sums, application scope, share-out, locks) is
customers.wallets.ledger; this module adds what needs invoices and usage.
"""

from collections import defaultdict
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from core.money import from_minor_units, to_minor_units
from customers.alerts.services import alerts_flag_wallets
from customers.models import Customer, Subscription, Wallet, WalletTransaction
from customers.wallets.ledger import (
    ZERO,
    FeeKey,
    cents_to_credits,
    credit_sums,
    lock_wallets,
    money_cents,
    outbound_create,
    share_out,
    wallet_usable,
)
from customers.wallets.notifications import notify_transactions
from invoices.models import Fee, Invoice
from usage.reports import current_usage

Tx = WalletTransaction
APPLIED_INVOICE_TYPES = (Invoice.InvoiceType.SUBSCRIPTION, Invoice.InvoiceType.PROGRESSIVE_BILLING)


def _fee_key(fee: Fee) -> FeeKey:
    metric = fee.charge.billable_metric.code if fee.charge_id else None
    return fee.fee_type, metric


def _fee_items(fees) -> dict[FeeKey, int]:
    """What each fee key still owes: amount - its coupons share + its taxes (Lago's cap)."""
    items: dict[FeeKey, int] = defaultdict(int)
    for fee in fees:
        owed = fee.amount_cents - fee.coupons_amount_cents + fee.taxes_amount_cents
        if owed > 0:
            items[_fee_key(fee)] += owed
    return items


def wallet_usage_owed(*, customer: Customer, currency: str, now: datetime) -> dict[FeeKey, int]:
    """What the customer owes that no wallet has paid yet: the current period's usage of its
    active subscriptions (charges billed in arrears) and its draft invoices."""
    items: dict[FeeKey, int] = defaultdict(int)
    subscriptions = Subscription.objects.filter(
        customer=customer, status=Subscription.Status.ACTIVE, plan__amount_currency=currency
    ).select_related("customer", "plan")
    for subscription in subscriptions:
        for usage in current_usage(subscription, at=now).charges:
            if not usage.charge.pay_in_advance:  # in-advance charges are invoiced as they come
                items[("charge", usage.charge.billable_metric.code)] += usage.amount_cents
    drafts = Invoice.objects.filter(
        customer=customer,
        currency=currency,
        status=Invoice.Status.DRAFT,
        invoice_type__in=APPLIED_INVOICE_TYPES,
    ).exclude(wallet_transactions__transaction_type=Tx.TransactionType.OUTBOUND)
    fees = Fee.objects.filter(invoice__in=drafts).select_related("charge__billable_metric")
    for key, cents in _fee_items(fees).items():
        items[key] += cents
    return items


def _consumed_cents(invoice: Invoice) -> int | None:
    """What wallets already paid of this invoice (None if they never did)."""
    rows = Tx.objects.filter(
        invoice_id=invoice.pk,
        transaction_type=Tx.TransactionType.OUTBOUND,
        transaction_status=Tx.TransactionStatus.INVOICED,
    )
    amounts = list(rows.values_list("amount", flat=True))
    if not amounts:
        return None
    return sum(to_minor_units(amount, invoice.currency) for amount in amounts)


def _consume(wallet: Wallet, cents: int, invoice: Invoice, now: datetime) -> WalletTransaction:
    """Take `cents` from a wallet; all its credits when that is its whole balance."""
    credits = wallet.credits_in - wallet.credits_out
    if cents < money_cents(credits, wallet):
        credits = min(credits, cents_to_credits(cents, wallet))
    alerts_flag_wallets([wallet.pk])  # its balance alerts look at it next run
    return outbound_create(
        wallet,
        transaction_status=Tx.TransactionStatus.INVOICED,
        credit_amount=credits,
        amount=from_minor_units(cents, wallet.currency),
        invoice=invoice,
        settled_at=now,
    )


def _annotated(wallets: dict[int, Wallet]) -> list[Wallet]:
    """The locked wallets with their credit sums, in application order (priority, oldest)."""
    sums = Tx.objects.filter(wallet_id__in=wallets).values("wallet_id").annotate(**credit_sums())
    by_id = {row["wallet_id"]: row for row in sums}
    for wallet in wallets.values():
        row = by_id.get(wallet.pk, {})
        wallet.credits_in = row.get("credits_in", ZERO)
        wallet.credits_out = row.get("credits_out", ZERO)
        wallet.credits_consumed = row.get("credits_consumed", ZERO)
    return sorted(wallets.values(), key=lambda w: (w.priority, w.created_at, w.pk))


@transaction.atomic
def wallets_apply(*, invoice: Invoice, now: datetime | None = None) -> int:
    """Pay what is left of a subscription or progressive-billing invoice (after taxes and credit
    notes) from the customer's wallets in its currency, in priority order; sets
    invoice.prepaid_credit_amount_cents (not saved) and returns it. Idempotent per invoice."""
    now = now or timezone.now()
    if invoice.invoice_type not in APPLIED_INVOICE_TYPES:
        return 0
    ids = Wallet.objects.filter(
        customer_id=invoice.customer_id, currency=invoice.currency, status=Wallet.Status.ACTIVE
    ).values_list("pk", flat=True)
    locked = lock_wallets(ids)
    done = _consumed_cents(invoice)
    if done is not None:
        invoice.prepaid_credit_amount_cents = done
        return done
    to_pay = invoice.sub_total_including_taxes_amount_cents - invoice.credit_notes_amount_cents
    usable = [w for w in _annotated(locked) if wallet_usable(w, now)]
    balances = {w.pk: money_cents(w.credits_in - w.credits_out, w) for w in usable}
    fees = invoice.fees.select_related("charge__billable_metric")
    shares = share_out(usable, balances, _fee_items(fees), cap=max(0, to_pay))
    rows = [_consume(s.wallet, s.taken_cents, invoice, now) for s in shares if s.taken_cents > 0]
    invoice.prepaid_credit_amount_cents = sum(s.taken_cents for s in shares)
    notify_transactions("wallet_transaction.created", rows)
    return invoice.prepaid_credit_amount_cents
