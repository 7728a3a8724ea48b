"""Paid top-ups on the invoicing side: the credit invoice of a purchase (wallet_credit_invoice,
the receiver of the `wallet.credits_purchased` hook run by customers.wallets.topups), and the
credits that land or fail with that invoice's payment (called by invoices.services.lifecycle).
"""

from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from customers.models import Wallet, WalletTransaction
from customers.selectors import customer_timezone
from customers.wallets.ledger import lock_wallets, money_cents, void_credits
from customers.wallets.notifications import notify_transactions
from customers.wallets.topups import credits_landed
from invoices.models import Fee, Invoice
from plans import periods

Tx = WalletTransaction


def wallet_credit_invoice(*, wallet: Wallet, credits: Decimal, now: datetime) -> Invoice:
    """The invoice of a paid top-up: one credit fee, no taxes or coupons, finalized at once."""
    from invoices.services.lifecycle import invoice_finalize, notify

    today = periods.local_date(now, customer_timezone(wallet.customer))
    invoice = Invoice.objects.create(
        customer=wallet.customer,
        invoice_type=Invoice.InvoiceType.CREDIT,
        currency=wallet.currency,
        issuing_date=today,
        payment_due_date=today,
    )
    Fee.objects.create(
        invoice=invoice,
        fee_type=Fee.FeeType.CREDIT,
        description="Prepaid credits",
        invoice_display_name=(wallet.name or "Prepaid credits")[:255],
        units=credits,
        total_aggregated_units=credits,
        precise_unit_amount=wallet.rate_amount,
        precise_amount=credits * wallet.rate_amount,
        amount_cents=money_cents(credits, wallet),
        amount_currency=wallet.currency,
    )
    notify(invoice, "invoice.created")
    return invoice_finalize(invoice=invoice, now=now)


def _purchases(invoice: Invoice, *statuses: str):
    return Tx.objects.filter(
        invoice_id=invoice.pk,
        transaction_type=Tx.TransactionType.INBOUND,
        transaction_status=Tx.TransactionStatus.PURCHASED,
        status__in=statuses,
    )


@transaction.atomic
def wallet_top_up_paid(*, invoice: Invoice, now: datetime | None = None) -> list[WalletTransaction]:
    """A credit invoice was paid: its pending credits land (settled). Credits marked failed by
    an earlier declined attempt land too: a dunning retry (or a manual payment) that succeeds
    means the money came in. Idempotent; credits paid for a wallet terminated meanwhile are
    voided at once."""
    now = now or timezone.now()
    if invoice.invoice_type != Invoice.InvoiceType.CREDIT:
        return []
    if invoice.payment_status != Invoice.PaymentStatus.SUCCEEDED:
        return []
    unsettled = (Tx.Status.PENDING, Tx.Status.FAILED)
    wallets = lock_wallets(_purchases(invoice, *unsettled).values_list("wallet_id", flat=True))
    rows = list(_purchases(invoice, *unsettled).select_for_update().order_by("id"))
    voids = []
    for row in rows:
        row.status, row.settled_at = Tx.Status.SETTLED, now
        row.save(update_fields=["status", "settled_at"])
        wallet = wallets[row.wallet_id]
        credits_landed(wallet)
        if wallet.status == Wallet.Status.TERMINATED:
            voids.append(void_credits(wallet, row.credit_amount, now))
    notify_transactions("wallet_transaction.updated", rows)
    notify_transactions("wallet_transaction.created", voids)
    if rows:
        from invoices.services.lifecycle import notify

        notify(invoice, "invoice.paid_credit_added")
    return rows


@transaction.atomic
def wallet_top_up_failed(
    *, invoice: Invoice, now: datetime | None = None
) -> list[WalletTransaction]:
    """A credit invoice's payment failed (or it was voided): its pending credits never land."""
    now = now or timezone.now()
    lock_wallets(_purchases(invoice, Tx.Status.PENDING).values_list("wallet_id", flat=True))
    rows = list(_purchases(invoice, Tx.Status.PENDING).select_for_update().order_by("id"))
    for row in rows:
        row.status, row.failed_at = Tx.Status.FAILED, now
        row.save(update_fields=["status", "failed_at"])
    notify_transactions("wallet_transaction.updated", rows)
    return rows
